// The atoms that name the engine's commands, declared once each.

#pragma once

#include <caf/atom.hpp>

namespace booking {

using create_atom = caf::atom_constant<caf::atom("create")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using await_atom = caf::atom_constant<caf::atom("await")>;
using update_atom = caf::atom_constant<caf::atom("update")>;
using record_atom = caf::atom_constant<caf::atom("record")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using quote_atom = caf::atom_constant<caf::atom("quote")>;
using authorize_atom = caf::atom_constant<caf::atom("authorize")>;
using capture_atom = caf::atom_constant<caf::atom("capture")>;
using void_atom = caf::atom_constant<caf::atom("void")>;
using refund_atom = caf::atom_constant<caf::atom("refund")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using claim_atom = caf::atom_constant<caf::atom("claim")>;
using parts_atom = caf::atom_constant<caf::atom("parts")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using fresh_atom = caf::atom_constant<caf::atom("fresh")>;
using notice_atom = caf::atom_constant<caf::atom("notice")>;
using redrive_atom = caf::atom_constant<caf::atom("redrive")>;
using saga_atom = caf::atom_constant<caf::atom("saga")>;
using summary_atom = caf::atom_constant<caf::atom("summary")>;

} // namespace booking
