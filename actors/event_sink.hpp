// Where the saga coordinator sends the domain events it emits.
//
// The AMQP publisher bridge implements this interface; without a broker the
// wiring leaves the handle empty and no events are built at all. Sending is
// one-way: the coordinator never waits on the bridge.

#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.hpp"

namespace booking {

/// Receives domain events.
using event_sink_actor = caf::typed_actor<caf::reacts_to<domain_event>>;

} // namespace booking
