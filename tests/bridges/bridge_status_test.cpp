// The bridges' shared status: when it calls a bridge stuck.

#define CAF_SUITE bridges.status
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "bridges/bridge_status.hpp"

using namespace booking;
using namespace std::chrono_literals;

CAF_TEST(a bridge that stops going round its loop is stuck) {
  bridge_status st;
  st.stall_limit = 1s;
  // Not up, or never started: not stuck, whatever the time.
  st.beat(true);
  std::this_thread::sleep_for(1500ms);
  CAF_CHECK_EQUAL(st.stuck(), "");
  st.publisher_up = true;
  st.consumer_up = true;
  st.beat(false);
  CAF_CHECK_EQUAL(st.stuck().rfind("publisher: stuck for ", 0), 0u);
  CAF_CHECK(st.stuck().find("(amqp.stall-timeout)") != std::string::npos);
  // A beat clears it; the intake, if it stops next, is named then.
  st.beat(true);
  CAF_CHECK_EQUAL(st.stuck(), "");
  std::this_thread::sleep_for(1500ms);
  st.beat(true);
  CAF_CHECK_EQUAL(st.stuck().rfind("intake: stuck for ", 0), 0u);
  st.consumer_up = false;
  CAF_CHECK_EQUAL(st.stuck(), "");
}
