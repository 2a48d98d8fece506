#define CAF_SUITE sim.report

#include "sim/report.hpp"

#include <caf/test/unit_test.hpp>

#include <clocale>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

using namespace booking;

namespace {

/// A run with a little of everything, one invariant broken by a booking
/// whose id needs escaping.
sim_report sample_report() {
  sim_report r;
  r.scenario = "flash <sale>";
  r.mode = "deterministic";
  r.seed = 42;
  r.requested = 12;
  r.accepted = 10;
  r.refused = {{"too many requests", 2}};
  r.cancelled_on_request = 1;
  r.duration = 12.5;
  r.throughput = 0.8;
  r.outcomes = {{"confirmed/none", 6},
                {"failed/sold_out", 2},
                {"failed/payment_declined", 1},
                {"compensation_failed/refund_failed", 1}};
  r.compensations_by_step = {{"reserve_seats", 3}};
  r.compensations = 3;
  r.retries_by_step = {{"authorize_payment", 4}, {"send_notification", 1}};
  r.retries = 5;
  r.uncertain_resolved = 1;
  r.latencies_ms = {0.5, 3, 12, 12, 40, 95, 150, 800, 2500, 30000};
  r.p50_ms = quantile(r.latencies_ms, 0.5);
  r.p90_ms = quantile(r.latencies_ms, 0.9);
  r.p99_ms = quantile(r.latencies_ms, 0.99);
  r.max_ms = r.latencies_ms.back();
  r.in_flight = {{0, 0}, {0.5, 4}, {2, 7}, {6, 3}, {12.5, 0}};
  r.faults = {{"broker outage", 1, 4},
              {"crash inventory#1", 5, 5},
              {"broker outage", 8, 9.5}};
  r.actor_crashes = 1;
  r.process_restarts = 0;
  r.broker = {true, 30, 28, 1, 2};
  invariant_result ok;
  ok.id = 1;
  ok.name = "sold + held <= capacity";
  invariant_result bad;
  bad.id = 2;
  bad.name = "confirmed => captured";
  bad.passed = false;
  bad.offenders = {"bk-<b>&", "bk-7"};
  bad.details = {"bk-<b>&: payment authorized, not captured"};
  r.invariants.results = {ok, bad};
  return r;
}

std::string text_of(const sim_report& r) {
  std::ostringstream out;
  write_text(r, out);
  return out.str();
}

std::string json_of(const sim_report& r) {
  std::ostringstream out;
  write_json(r, out);
  return out.str();
}

std::string html_of(const sim_report& r) {
  std::ostringstream out;
  write_html(r, out);
  return out.str();
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto i = text.find(what); i != std::string::npos;
       i = text.find(what, i + what.size()))
    ++n;
  return n;
}

bool contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

CAF_TEST(quantile is nearest rank) {
  std::vector<double> xs{1, 2, 3, 4};
  CAF_CHECK_EQUAL(quantile(xs, 0.5), 2.0);
  CAF_CHECK_EQUAL(quantile(xs, 0), 1.0);
  CAF_CHECK_EQUAL(quantile(xs, 0.25), 1.0);
  CAF_CHECK_EQUAL(quantile(xs, 0.26), 2.0);
  CAF_CHECK_EQUAL(quantile(xs, 0.75), 3.0);
  CAF_CHECK_EQUAL(quantile(xs, 1), 4.0);
  CAF_CHECK_EQUAL(quantile({}, 0.5), 0.0);
  CAF_CHECK_EQUAL(quantile({7}, 0.99), 7.0);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i)
    hundred.push_back(i);
  // 0.07 x 100 is 7.000000000000001 in binary; the rank is still 7.
  CAF_CHECK_EQUAL(quantile(hundred, 0.07), 7.0);
  CAF_CHECK_EQUAL(quantile(hundred, 0.9), 90.0);
  CAF_CHECK_EQUAL(quantile(hundred, 0.99), 99.0);
  CAF_CHECK_EQUAL(quantile(hundred, 0.991), 100.0);
}

CAF_TEST(json carries the verdict and the counts) {
  auto r = sample_report();
  auto text = json_of(r);
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  CAF_REQUIRE(!doc.HasParseError());
  CAF_REQUIRE(doc.IsObject());
  CAF_CHECK_EQUAL(std::string{doc["scenario"].GetString()}, "flash <sale>");
  CAF_CHECK_EQUAL(doc["seed"].GetUint64(), 42u);
  CAF_CHECK_EQUAL(doc["accepted"].GetInt64(), 10);
  CAF_CHECK_EQUAL(doc["refused"]["too many requests"].GetInt64(), 2);
  CAF_CHECK_EQUAL(doc["duration_s"].GetDouble(), 12.5);
  CAF_CHECK(doc["ok"].IsFalse());
  auto& outcomes = doc["outcomes"];
  CAF_CHECK_EQUAL(outcomes.MemberCount(), 4u);
  CAF_CHECK_EQUAL(outcomes["confirmed/none"].GetInt64(), 6);
  CAF_CHECK_EQUAL(outcomes["failed/sold_out"].GetInt64(), 2);
  CAF_CHECK_EQUAL(outcomes["compensation_failed/refund_failed"].GetInt64(), 1);
  CAF_CHECK_EQUAL(doc["compensations"]["total"].GetInt64(), 3);
  CAF_CHECK_EQUAL(doc["retries"]["by_step"]["authorize_payment"].GetInt64(), 4);
  auto& latency = doc["latency_ms"];
  CAF_CHECK_EQUAL(latency["p50"].GetDouble(), 40.0);
  CAF_CHECK_EQUAL(latency["max"].GetDouble(), 30000.0);
  CAF_CHECK(!latency.HasMember("values"));
  auto& bins = latency["histogram"];
  CAF_REQUIRE(bins.IsArray());
  CAF_CHECK(bins.Size() >= 12 && bins.Size() <= 30);
  int64_t total = 0;
  double previous = 0;
  for (auto& bin : bins.GetArray()) {
    CAF_CHECK(bin["le"].GetDouble() > previous);
    previous = bin["le"].GetDouble();
    total += bin["count"].GetInt64();
  }
  CAF_CHECK_EQUAL(total, static_cast<int64_t>(r.latencies_ms.size()));
  CAF_CHECK(previous >= r.max_ms);
  CAF_CHECK_EQUAL(doc["in_flight"].Size(), r.in_flight.size());
  CAF_CHECK_EQUAL(doc["in_flight"][2][1].GetInt64(), 7);
  CAF_CHECK_EQUAL(doc["faults"].Size(), 3u);
  CAF_CHECK_EQUAL(std::string{doc["faults"][1]["kind"].GetString()},
                  "crash inventory#1");
  CAF_CHECK_EQUAL(doc["broker"]["backlog"].GetInt64(), 2);
  auto& invariants = doc["invariants"];
  CAF_REQUIRE_EQUAL(invariants.Size(), 2u);
  CAF_CHECK(invariants[0]["passed"].IsTrue());
  CAF_CHECK(invariants[1]["passed"].IsFalse());
  CAF_CHECK_EQUAL(invariants[1]["id"].GetInt(), 2);
  CAF_REQUIRE_EQUAL(invariants[1]["offenders"].Size(), 2u);
  CAF_CHECK_EQUAL(std::string{invariants[1]["offenders"][0].GetString()},
                  "bk-<b>&");
  CAF_CHECK_EQUAL(invariants[1]["details"].Size(), 1u);
}

CAF_TEST(the histogram bins are nice bounds up to the maximum) {
  sim_report r;
  r.latencies_ms = {0, 0.004, 1, 1, 1.2, 7, 7.5};
  rapidjson::Document doc;
  doc.Parse(json_of(r).c_str());
  CAF_REQUIRE(!doc.HasParseError());
  auto& bins = doc["latency_ms"]["histogram"];
  // From 0.01 ms, the smallest bound, to 10, the smallest >= 7.5: six per
  // decade.
  CAF_REQUIRE_EQUAL(bins.Size(), 19u);
  CAF_CHECK_EQUAL(bins[0]["le"].GetDouble(), 0.01);
  CAF_CHECK_EQUAL(bins[1]["le"].GetDouble(), 0.015);
  CAF_CHECK_EQUAL(bins[12]["le"].GetDouble(), 1.0);
  CAF_CHECK_EQUAL(bins[18]["le"].GetDouble(), 10.0);
  CAF_CHECK_EQUAL(bins[0]["count"].GetInt64(), 2);  // 0 and 0.004
  CAF_CHECK_EQUAL(bins[12]["count"].GetInt64(), 2); // 1 and 1
  CAF_CHECK_EQUAL(bins[13]["count"].GetInt64(), 1); // 1.2 <= 1.5
  CAF_CHECK_EQUAL(bins[17]["count"].GetInt64(), 1); // 7 <= 7
  CAF_CHECK_EQUAL(bins[18]["count"].GetInt64(), 1); // 7.5 <= 10
  // A tight distribution still gets two decades of bins.
  r.latencies_ms = {100, 120};
  doc.Parse(json_of(r).c_str());
  CAF_REQUIRE(!doc.HasParseError());
  auto& tight = doc["latency_ms"]["histogram"];
  CAF_REQUIRE_EQUAL(tight.Size(), 12u);
  CAF_CHECK_EQUAL(tight[0]["le"].GetDouble(), 2.0);
  CAF_CHECK_EQUAL(tight[10]["le"].GetDouble(), 100.0);
  CAF_CHECK_EQUAL(tight[10]["count"].GetInt64(), 1);
  CAF_CHECK_EQUAL(tight[11]["le"].GetDouble(), 150.0);
  CAF_CHECK_EQUAL(tight[11]["count"].GetInt64(), 1);
  // A span of ten decades keeps the top 30 bins.
  r.latencies_ms = {0.01, 1e8};
  doc.Parse(json_of(r).c_str());
  CAF_REQUIRE(!doc.HasParseError());
  auto& wide = doc["latency_ms"]["histogram"];
  CAF_REQUIRE_EQUAL(wide.Size(), 30u);
  CAF_CHECK_EQUAL(wide[0]["count"].GetInt64(), 1);
  CAF_CHECK_EQUAL(wide[29]["le"].GetDouble(), 1e8);
  CAF_CHECK_EQUAL(wide[29]["count"].GetInt64(), 1);
}

CAF_TEST(html is self contained and escaped) {
  auto r = sample_report();
  auto html = html_of(r);
  CAF_CHECK_EQUAL(html.rfind("<!DOCTYPE html>", 0), 0u);
  CAF_CHECK_EQUAL(occurrences(html, "<svg"), 3u);
  CAF_CHECK_EQUAL(occurrences(html, "</svg>"), 3u);
  CAF_CHECK_EQUAL(occurrences(html, "aria-label="), 3u);
  CAF_CHECK(!contains(html, "<script"));
  CAF_CHECK(!contains(html, "http://"));
  CAF_CHECK(!contains(html, "https://"));
  CAF_CHECK(!contains(html, "src="));
  CAF_CHECK(!contains(html, "url("));
  CAF_CHECK(!contains(html, "@import"));
  CAF_CHECK(!contains(html, "nan"));
  CAF_CHECK_EQUAL(occurrences(html, "<rect class=\"fault\""), r.faults.size());
  CAF_CHECK(!contains(html, "bk-<b>&"));
  CAF_CHECK(contains(html, "bk-&lt;b&gt;&amp;"));
  CAF_CHECK(!contains(html, "flash <sale>"));
  CAF_CHECK(contains(html, "flash &lt;sale&gt;"));
  CAF_CHECK(contains(html, "Some invariants do NOT hold."));
  // The legend names each fault kind once.
  CAF_CHECK_EQUAL(occurrences(html, ">broker outage</text>"), 1u);
  CAF_CHECK_EQUAL(occurrences(html, ">crash inventory#1</text>"), 1u);
}

CAF_TEST(text lists the failure and its offenders) {
  auto r = sample_report();
  auto text = text_of(r);
  CAF_CHECK(contains(text, "PASS  1. sold + held <= capacity\n"));
  CAF_CHECK(contains(text, "FAIL  2. confirmed => captured (2 offending)\n"));
  CAF_CHECK(contains(text, "bk-<b>&"));
  CAF_CHECK(contains(text, "throughput"));
  CAF_CHECK(contains(text, "0.800 sagas/s"));
  CAF_CHECK(contains(text, "Broker"));
  CAF_CHECK_EQUAL(text.substr(text.size() - 29),
                  "Some invariants do NOT hold.\n");
  r.broker.configured = false;
  CAF_CHECK(!contains(text_of(r), "Broker"));
  r.invariants.results.resize(1);
  text = text_of(r);
  CAF_CHECK(!contains(text, "FAIL"));
  CAF_CHECK_EQUAL(text.substr(text.size() - 21), "All invariants hold.\n");
}

CAF_TEST(the text lists at most ten offenders) {
  auto r = sample_report();
  r.invariants.results[1].offenders.clear();
  for (int i = 0; i < 25; ++i)
    r.invariants.results[1].offenders.push_back("id" + std::to_string(i));
  auto text = text_of(r);
  CAF_CHECK(contains(text, "id9 and 15 more\n"));
  CAF_CHECK(!contains(text, "id10"));
}

CAF_TEST(output is deterministic) {
  auto r = sample_report();
  CAF_CHECK_EQUAL(text_of(r), text_of(r));
  CAF_CHECK_EQUAL(json_of(r), json_of(r));
  CAF_CHECK_EQUAL(html_of(r), html_of(r));
  CAF_CHECK_EQUAL(html_of(r), html_of(sample_report()));
  // A locale with a decimal comma changes no byte.
  auto json = json_of(r);
  auto html = html_of(r);
  auto text = text_of(r);
  if (std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr) {
    CAF_CHECK_EQUAL(json_of(r), json);
    CAF_CHECK_EQUAL(html_of(r), html);
    CAF_CHECK_EQUAL(text_of(r), text);
    std::setlocale(LC_NUMERIC, "C");
  }
}

CAF_TEST(empty data gives finite charts) {
  sim_report r;
  auto html = html_of(r);
  CAF_CHECK_EQUAL(occurrences(html, "<svg"), 3u);
  CAF_CHECK(!contains(html, "nan"));
  CAF_CHECK(!contains(html, "inf"));
  CAF_CHECK(contains(html, "no booking reached an outcome"));
  CAF_CHECK(contains(html, "no samples"));
  rapidjson::Document doc;
  doc.Parse(json_of(r).c_str());
  CAF_REQUIRE(!doc.HasParseError());
  CAF_CHECK_EQUAL(doc["latency_ms"]["histogram"].Size(), 0u);
  CAF_CHECK(doc["ok"].IsTrue());
  // Not-a-number from a careless division is null, not invalid JSON.
  r.throughput = std::nan("");
  doc.Parse(json_of(r).c_str());
  CAF_REQUIRE(!doc.HasParseError());
  CAF_CHECK(doc["throughput_per_s"].IsNull());
  CAF_CHECK(contains(text_of(r), "- sagas/s"));
}
