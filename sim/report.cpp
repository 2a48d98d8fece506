// The three writers of a simulator report: the table for the terminal, the
// JSON document and the self-contained HTML page with its SVG charts.
//
// Every number goes out through `fixed` or std::to_string, never through a
// stream's own formatting: neither the C locale nor a locale imbued into the
// stream can change a byte, so one report always gives the same output.

#include "sim/report.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "actors/codec/json_writer.hpp"
#include "sim/svg_chart.hpp"

namespace booking {

namespace {

using namespace svg;

// -- numbers ------------------------------------------------------------------

/// `x` with at most three decimals and no trailing zeros: "0.015", "1.5",
/// "20". For labels, where "20.000" would only add noise.
std::string short_number(double x) {
  auto s = fixed(x, 3);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

/// An integer; std::to_string, unlike a stream, knows no digit grouping.
std::string count_text(int64_t x) {
  return std::to_string(x);
}

/// `part` as a percentage of `whole` with one decimal, "-" if `whole` is 0.
std::string percent(int64_t part, int64_t whole) {
  if (whole <= 0)
    return "-";
  return fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole),
               1);
}

int64_t sum_of(const std::vector<count_row>& rows) {
  int64_t n = 0;
  for (auto& row : rows)
    n += row.second;
  return n;
}

// -- the latency histogram ----------------------------------------------------
//
// Binning rule, shared by the JSON document and the HTML chart:
//
// - Upper bounds come from the series 1, 1.5, 2, 3, 5, 7 x 10^k ms, six per
//   decade: latencies span decades (a direct confirmation, a retry after a
//   backoff, a payment timeout), so the bins are about equally wide on a
//   log scale, each bound 1.33 to 1.67 times the one before, and round
//   numbers read well as labels.
// - The last bound is the smallest one >= the largest latency; the first
//   is the smallest one >= the smallest latency, moved down to give at
//   least 12 bins (two decades), so a tight distribution shows as a narrow
//   peak in context rather than as two bars filling the chart, and moved
//   up to give at most 30 bins, in which case the lowest latencies share
//   the first bin. No bound is below 0.01 ms.
// - A bin counts the latencies above the previous bound and at most its
//   own ("le"); the first bin starts at 0. The counts add up to the number
//   of latencies.

/// One bar of the latency histogram.
struct histogram_bin {
  /// Inclusive upper bound, in ms.
  double le = 0;
  int64_t count = 0;
};

constexpr int bins_per_decade = 6;
/// The series, in tenths: 10 x 10^-1 is 1.
constexpr int bin_mantissas[bins_per_decade] = {10, 15, 20, 30, 50, 70};
/// Index of 0.01 ms, the smallest bound.
constexpr int lowest_bin = -2 * bins_per_decade;
/// Index of 10^15 ms: keeps the search finite whatever the data.
constexpr int highest_bin = 15 * bins_per_decade;
constexpr int min_bins = 12;
constexpr int max_bins = 30;

/// The upper bound with index `i`; index 0 is 1 ms.
double bin_bound(int i) {
  // Rounds towards minus infinity, also for negative indexes.
  int decade = i >= 0 ? i / bins_per_decade
                      : -((-i + bins_per_decade - 1) / bins_per_decade);
  int j = i - decade * bins_per_decade;
  return scaled(bin_mantissas[j], decade - 1);
}

/// The index of the smallest bound >= `x`.
int bin_index(double x) {
  int i = lowest_bin;
  while (i < highest_bin && bin_bound(i) < x)
    ++i;
  return i;
}

/// The latency histogram of `latencies` (ms, any order).
std::vector<histogram_bin> histogram(const std::vector<double>& latencies) {
  std::vector<histogram_bin> bins;
  if (latencies.empty())
    return bins;
  auto lo = std::numeric_limits<double>::infinity();
  auto hi = -lo;
  for (auto x : latencies)
    if (std::isfinite(x)) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  if (lo > hi) // nothing finite
    lo = hi = 0;
  auto last = bin_index(hi);
  auto first = std::min(bin_index(lo), last - (min_bins - 1));
  first = std::max({first, last - (max_bins - 1), lowest_bin});
  for (auto i = first; i <= last; ++i)
    bins.push_back({bin_bound(i), 0});
  for (auto x : latencies) {
    auto i = std::lower_bound(bins.begin(), bins.end(), x,
                              [](const histogram_bin& bin, double y) {
                                return bin.le < y;
                              });
    // Only +infinity (or beyond 10^15 ms) lies above the last bound; NaN
    // lands in the first bin.
    if (i == bins.end())
      --i;
    ++i->count;
  }
  return bins;
}

// -- text ---------------------------------------------------------------------

/// A fixed-width table, each column as wide as its widest cell: text
/// columns left-aligned, the columns of numbers right-aligned.
class text_table {
public:
  /// Columns from `first_number` on are right-aligned.
  explicit text_table(size_t first_number = 1) : first_number_(first_number) {
  }

  void add(std::vector<std::string> cells) {
    rows_.push_back(std::move(cells));
  }

  void write(std::ostream& out, const std::string& indent = "  ") const {
    std::vector<size_t> widths;
    for (auto& row : rows_) {
      widths.resize(std::max(widths.size(), row.size()));
      for (size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], row[i].size());
    }
    for (auto& row : rows_) {
      std::string line = indent;
      for (size_t i = 0; i < row.size(); ++i) {
        auto pad = std::string(widths[i] - row[i].size(), ' ');
        if (i > 0)
          line += "  ";
        line += i < first_number_ ? row[i] + pad : pad + row[i];
      }
      line.erase(line.find_last_not_of(' ') + 1);
      out << line << '\n';
    }
  }

private:
  size_t first_number_;
  std::vector<std::vector<std::string>> rows_;
};

/// Writes a table of `rows` under `title`, with a total if `total` >= 0.
void write_counts(std::ostream& out, const std::string& title,
                  const std::vector<count_row>& rows, int64_t total) {
  out << '\n' << title << '\n';
  if (rows.empty() && total <= 0) {
    out << "  none\n";
    return;
  }
  text_table t;
  for (auto& [key, n] : rows)
    t.add({key, count_text(n)});
  if (total >= 0)
    t.add({"total", count_text(total)});
  t.write(out);
}

/// How many offending ids the text lists per invariant.
constexpr size_t text_offenders = 10;

// -- JSON ---------------------------------------------------------------------

void put_string(json_writer& w, const std::string& x) {
  w.string(x);
}

void put_key(json_writer& w, const std::string& key) {
  w.key(key);
}

/// `x` as a JSON number with three decimals, or null if it is not finite
/// (JSON has no NaN). A JSON writer's shortest form would print 0.1 + 0.2
/// as 0.30000000000000004.
std::string json_number(double x) {
  return std::isfinite(x) ? fixed(x, 3) : "null";
}

void put_number(json_writer& w, double x) {
  auto s = json_number(x);
  w.raw(s, std::isfinite(x) ? json_kind::number : json_kind::null);
}

/// Writes a small array or object of numbers, prepared by the caller, on
/// one line: hundreds of samples would otherwise take four lines each.
void put_line(json_writer& w, const std::string& json, json_kind kind) {
  w.raw(json, kind);
}

/// Writes `rows` as an object of counts, in the report's order.
void put_counts(json_writer& w, const std::vector<count_row>& rows) {
  w.begin_object();
  for (auto& [key, n] : rows) {
    put_key(w, key);
    w.int64(n);
  }
  w.end_object();
}

void put_strings(json_writer& w, const std::vector<std::string>& xs) {
  w.begin_array();
  for (auto& x : xs)
    put_string(w, x);
  w.end_array();
}

// -- HTML ---------------------------------------------------------------------

const char* const style = R"(
body { font-family: system-ui, sans-serif; color: #222; background: #fff;
       max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { padding: .2em .8em; border-bottom: 1px solid #eee; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-family: ui-monospace, monospace; font-size: .95em; }
.verdict { display: inline-block; padding: .3em .8em; border-radius: 4px;
           font-weight: bold; }
.verdict.ok, tr.pass td.result { background: #e3f4e6; color: #1b6e2f; }
.verdict.bad, tr.fail td.result { background: #fbe3e3; color: #a1111d; }
td.result { font-weight: bold; }
ul.details { margin: 0; padding-left: 1.2em; }
figure { margin: 1em 0; }
svg { max-width: 100%; height: auto; font-size: 12px; }
svg text { fill: #333; }
svg .chart-title { font-size: 14px; font-weight: bold; }
svg .tick { font-size: 11px; fill: #555; }
svg .grid { stroke: #e6e6e6; }
svg .axis { stroke: #555; }
svg .empty { fill: #888; font-style: italic; }
)";

constexpr double chart_width = 720;

/// Chart 1: one bar per histogram bin, equally wide (the bins are log-
/// spaced), labelled below with the bin's upper bound.
void latency_chart(std::ostream& out, const sim_report& r,
                   const std::vector<histogram_bin>& bins) {
  constexpr double height = 360;
  frame f{64, 40, chart_width - 64 - 20, height - 40 - 84};
  std::string title = "Latency from request to outcome";
  if (!bins.empty())
    title += " (p50 " + fixed(r.p50_ms, 1) + " ms, p90 " + fixed(r.p90_ms, 1)
             + " ms, p99 " + fixed(r.p99_ms, 1) + " ms)";
  svg_open(out, "latency-chart", chart_width, height, title);
  int64_t most = 0;
  for (auto& bin : bins)
    most = std::max(most, bin.count);
  auto step = nice_step(static_cast<double>(most), 5, true);
  auto top = axis_top(static_cast<double>(most), step);
  y_ticks(out, f, step, top);
  if (bins.empty()) {
    no_data(out, f, "no booking reached an outcome");
  } else {
    auto slot = f.width / static_cast<double>(bins.size());
    auto gap = slot > 4 ? 1.0 : 0.0;
    double lower = 0;
    for (size_t i = 0; i < bins.size(); ++i) {
      auto& bin = bins[i];
      auto x = f.left + static_cast<double>(i) * slot;
      if (bin.count > 0) {
        auto h = static_cast<double>(bin.count) / top * f.height;
        out << "<rect class=\"bar\" x=\"" << px(x + gap / 2) << "\" y=\""
            << px(f.bottom() - h) << "\" width=\"" << px(slot - gap)
            << "\" height=\"" << px(h) << "\" fill=\"#4e79a7\"><title>"
            << short_number(lower) << " to " << short_number(bin.le)
            << " ms: " << count_text(bin.count)
            << (bin.count == 1 ? " booking" : " bookings")
            << "</title></rect>\n";
      }
      auto cx = px(x + slot / 2);
      auto ty = px(f.bottom() + 14);
      out << "<text class=\"tick\" transform=\"translate(" << cx << ',' << ty
          << ") rotate(-45)\" text-anchor=\"end\">" << short_number(bin.le)
          << "</text>\n";
      lower = bin.le;
    }
  }
  axes(out, f);
  x_title(out, f, height - 10,
          "latency in ms (each bar up to the bound below it)");
  y_title(out, f, "bookings");
  svg_close(out);
}

/// Fill of an outcome bar: green for confirmed, reds and oranges for the
/// failure reasons in turn, dark red for compensation_failed, greys for
/// cancellations, purple for anything still pending.
std::string outcome_color(const std::string& key, size_t& failures) {
  static constexpr const char* failure_colors[]
    = {"#d62728", "#f28e2b", "#e15759", "#ff7f0e", "#c44e52", "#f4a261"};
  auto status = key.substr(0, key.find('/'));
  if (status == "confirmed")
    return "#2e8b57";
  if (status == "compensation_failed")
    return "#7f0000";
  if (status == "failed")
    return failure_colors[failures++ % std::size(failure_colors)];
  if (status == "cancelled")
    return "#8c8c8c";
  if (status == "cancelling")
    return "#bdbdbd";
  if (status == "pending")
    return "#9467bd";
  return "#4e79a7";
}

/// Chart 2: one horizontal bar per status/reason, with its count.
void outcome_chart(std::ostream& out, const sim_report& r) {
  constexpr double row = 24;
  constexpr double bar = 16;
  constexpr size_t label_chars = 40;
  double label_px = 0;
  for (auto& [key, n] : r.outcomes)
    label_px = std::max(label_px, text_width(cut(key, label_chars)));
  auto rows = std::max<size_t>(r.outcomes.size(), 1);
  frame f;
  f.left = std::max(80.0, label_px + 16);
  f.top = 36;
  f.width = chart_width - f.left - 120;
  f.height = static_cast<double>(rows) * row;
  auto height = f.bottom() + 44;
  svg_open(out, "outcome-chart", chart_width, height, "Outcomes of bookings");
  int64_t most = 0;
  for (auto& [key, n] : r.outcomes)
    most = std::max(most, n);
  auto step = nice_step(static_cast<double>(most), 5, true);
  auto top = axis_top(static_cast<double>(most), step);
  x_ticks(out, f, step, top);
  if (r.outcomes.empty())
    no_data(out, f, "no outcomes");
  size_t failures = 0;
  for (size_t i = 0; i < r.outcomes.size(); ++i) {
    auto& [key, n] = r.outcomes[i];
    auto y = f.top + static_cast<double>(i) * row + (row - bar) / 2;
    // A bar of one booking among thousands stays visible.
    auto w = n > 0 ? std::max(1.0, static_cast<double>(n) / top * f.width)
                   : 0.0;
    auto label = count_text(n);
    if (r.accepted > 0)
      label += " (" + percent(n, r.accepted) + " %)";
    out << "<text x=\"" << px(f.left - 8) << "\" y=\"" << px(y + bar - 4)
        << "\" text-anchor=\"end\">" << esc(cut(key, label_chars))
        << "</text>\n"
        << "<rect class=\"bar\" x=\"" << px(f.left) << "\" y=\"" << px(y)
        << "\" width=\"" << px(w) << "\" height=\"" << px(bar) << "\" fill=\""
        << outcome_color(key, failures) << "\"><title>" << esc(key) << ": "
        << label << "</title></rect>\n"
        << "<text x=\"" << px(f.left + w + 6) << "\" y=\"" << px(y + bar - 4)
        << "\">" << label << "</text>\n";
  }
  axes(out, f);
  x_title(out, f, height - 8, "bookings");
  svg_close(out);
}

/// Fill of the fault windows of the `i`-th distinct kind.
const char* fault_color(size_t i) {
  static constexpr const char* colors[] = {"#e15759", "#f28e2b", "#b07aa1",
                                           "#59a14f", "#edc948", "#76b7b2",
                                           "#ff9da7", "#9c755f"};
  return colors[i % std::size(colors)];
}

/// One entry of a chart legend, placed.
struct legend_entry {
  std::string text;
  std::string color;
  bool line = false;
  double x = 0;
  double y = 0;
};

/// Chart 3: sagas in flight as a step line over an area, fault windows
/// shaded behind it, and a legend of the fault kinds.
void in_flight_chart(std::ostream& out, const sim_report& r) {
  frame f{64, 40, chart_width - 64 - 20, 240};
  // Distinct fault kinds in order of first appearance: a stable color each.
  std::vector<std::string> kinds;
  std::map<std::string, size_t> kind_index;
  for (auto& fw : r.faults)
    if (kind_index.emplace(fw.kind, kinds.size()).second)
      kinds.push_back(fw.kind);
  // The legend flows left to right and wraps at the plot's width.
  std::vector<legend_entry> legend;
  legend.push_back({"sagas in flight", "#1f4e79", true});
  for (size_t i = 0; i < kinds.size(); ++i)
    legend.push_back({kinds[i], fault_color(i)});
  double lx = f.left;
  double ly = f.bottom() + 56;
  for (auto& e : legend) {
    auto w = 18 + text_width(e.text) + 18;
    if (lx > f.left && lx + w > f.right()) {
      lx = f.left;
      ly += 18;
    }
    e.x = lx;
    e.y = ly;
    lx += w;
  }
  auto height = ly + 14;
  svg_open(out, "in-flight-chart", chart_width, height,
           "Sagas in flight over time, with injected faults");
  // The time axis covers the run, every sample and every fault.
  double span = std::isfinite(r.duration) ? r.duration : 0;
  for (auto& s : r.in_flight)
    if (std::isfinite(s.time))
      span = std::max(span, s.time);
  for (auto& fw : r.faults)
    for (auto t : {fw.start, fw.end})
      if (std::isfinite(t))
        span = std::max(span, t);
  if (!(span > 0))
    span = 1;
  int64_t most = 0;
  for (auto& s : r.in_flight)
    most = std::max(most, s.in_flight);
  auto x_step = nice_step(span, 10, false);
  auto x_top = axis_top(span, x_step);
  auto y_step = nice_step(static_cast<double>(most), 5, true);
  auto y_top = axis_top(static_cast<double>(most), y_step);
  auto x_of = [&](double t) {
    if (!std::isfinite(t))
      t = 0;
    return f.left + std::clamp(t, 0.0, x_top) / x_top * f.width;
  };
  auto y_of = [&](int64_t n) {
    return f.bottom()
           - std::clamp(static_cast<double>(n), 0.0, y_top) / y_top * f.height;
  };
  y_ticks(out, f, y_step, y_top);
  x_ticks(out, f, x_step, x_top);
  // Fault windows first, so the line stays on top. An instant fault is a
  // line at least 1px wide, opaque enough to see.
  for (auto& fw : r.faults) {
    auto x0 = x_of(fw.start);
    auto x1 = x_of(fw.end);
    auto instant = !(x1 - x0 >= 1);
    out << "<rect class=\"fault\" x=\"" << px(x0) << "\" y=\"" << px(f.top)
        << "\" width=\"" << px(std::max(1.0, x1 - x0)) << "\" height=\""
        << px(f.height) << "\" fill=\"" << fault_color(kind_index[fw.kind])
        << "\" fill-opacity=\"" << (instant ? "0.8" : "0.25") << "\"><title>"
        << esc(fw.kind) << ": " << fixed(fw.start, 3) << " s to "
        << fixed(fw.end, 3) << " s</title></rect>\n";
  }
  if (r.in_flight.empty()) {
    no_data(out, f, "no samples");
  } else {
    // A step function: the number holds until the next sample, and the
    // last one until the end of the run.
    std::string line;
    auto point = [&](double t, int64_t n) {
      line += (line.empty() ? "M" : " L") + px(x_of(t)) + ' ' + px(y_of(n));
    };
    for (size_t i = 0; i < r.in_flight.size(); ++i) {
      auto& s = r.in_flight[i];
      if (i > 0)
        point(s.time, r.in_flight[i - 1].in_flight);
      point(s.time, s.in_flight);
    }
    auto end = std::max(r.in_flight.back().time, span);
    point(end, r.in_flight.back().in_flight);
    auto area = "M" + px(x_of(r.in_flight.front().time)) + ' ' + px(f.bottom())
                + " L" + line.substr(1) + " L" + px(x_of(end)) + ' '
                + px(f.bottom()) + " Z";
    out << "<path d=\"" << area << "\" fill=\"#4e79a7\" fill-opacity=\"0.2\""
        << " stroke=\"none\"/>\n"
        << "<path d=\"" << line << "\" fill=\"none\" stroke=\"#1f4e79\""
        << " stroke-width=\"1.5\"/>\n";
  }
  axes(out, f);
  x_title(out, f, f.bottom() + 34, "seconds from the start of the run");
  y_title(out, f, "sagas in flight");
  for (auto& e : legend) {
    if (e.line)
      out << "<line x1=\"" << px(e.x) << "\" y1=\"" << px(e.y - 4) << "\" x2=\""
          << px(e.x + 12) << "\" y2=\"" << px(e.y - 4) << "\" stroke=\""
          << e.color << "\" stroke-width=\"2\"/>\n";
    else
      out << "<rect class=\"swatch\" x=\"" << px(e.x) << "\" y=\""
          << px(e.y - 10) << "\" width=\"12\" height=\"12\" fill=\"" << e.color
          << "\" fill-opacity=\"0.5\"/>\n";
    out << "<text x=\"" << px(e.x + 18) << "\" y=\"" << px(e.y) << "\">"
        << esc(e.text) << "</text>\n";
  }
  svg_close(out);
}

/// A two-column row of the summary table.
void summary_row(std::ostream& out, const std::string& key,
                 const std::string& value) {
  out << "<tr><th scope=\"row\">" << esc(key) << "</th><td class=\"num\">"
      << esc(value) << "</td></tr>\n";
}

/// A table of counts with a share of `whole` (if > 0) and a total row (if
/// `total` >= 0).
void count_table(std::ostream& out, const std::string& caption,
                 const std::string& key_name,
                 const std::vector<count_row>& rows, int64_t whole,
                 int64_t total) {
  if (rows.empty() && total <= 0)
    return;
  out << "<table>\n<caption>" << esc(caption) << "</caption>\n<tr><th>"
      << esc(key_name) << "</th><th class=\"num\">count</th>";
  if (whole > 0)
    out << "<th class=\"num\">% of accepted</th>";
  out << "</tr>\n";
  for (auto& [key, n] : rows) {
    out << "<tr><td><code>" << esc(key) << "</code></td><td class=\"num\">"
        << count_text(n) << "</td>";
    if (whole > 0)
      out << "<td class=\"num\">" << percent(n, whole) << "</td>";
    out << "</tr>\n";
  }
  if (total >= 0) {
    out << "<tr><th>total</th><td class=\"num\">" << count_text(total)
        << "</td>";
    if (whole > 0)
      out << "<td></td>";
    out << "</tr>\n";
  }
  out << "</table>\n";
}

/// How many offending ids the HTML lists per invariant.
constexpr size_t html_offenders = 100;

} // namespace

// -- public interface ---------------------------------------------------------

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto n = sorted.size();
  if (!(q > 0))
    return sorted.front();
  if (q >= 1)
    return sorted.back();
  // Nearest rank: the smallest value with at least q x n values at or below
  // it. The tolerance keeps 0.07 x 100 = 7.000000000000001 at rank 7.
  auto rank = std::ceil(q * static_cast<double>(n) - 1e-9);
  auto i = static_cast<size_t>(std::max(1.0, rank)) - 1;
  return sorted[std::min(i, n - 1)];
}

void write_text(const sim_report& r, std::ostream& out) {
  out << "Simulation report\n";
  // Left-aligned: the scenario and mode are words among the numbers.
  text_table head{2};
  head.add({"scenario", r.scenario});
  head.add({"mode", r.mode});
  head.add({"seed", std::to_string(r.seed)});
  head.add({"requested", count_text(r.requested)});
  head.add({"accepted", count_text(r.accepted)});
  head.add({"refused", count_text(sum_of(r.refused))});
  for (auto& [key, n] : r.refused)
    head.add({"  " + key, count_text(n)});
  head.add({"cancelled on request", count_text(r.cancelled_on_request)});
  head.add({"duration", fixed(r.duration, 3) + " s"});
  head.add({"throughput", fixed(r.throughput, 3) + " sagas/s"});
  head.write(out);

  out << "\nOutcomes\n";
  if (r.outcomes.empty()) {
    out << "  none\n";
  } else {
    text_table t;
    t.add({"status/reason", "count", "% of accepted"});
    for (auto& [key, n] : r.outcomes)
      t.add({key, count_text(n), percent(n, r.accepted)});
    t.write(out);
  }
  write_counts(out, "Compensations by step", r.compensations_by_step,
               r.compensations);
  write_counts(out, "Retries by step", r.retries_by_step, r.retries);
  write_counts(out, "Sagas by table version", r.sagas_by_version, -1);

  out << '\n';
  text_table misc;
  misc.add({"uncertain outcomes resolved", count_text(r.uncertain_resolved)});
  misc.write(out, "");

  out << "\nLatency (ms, "
      << count_text(static_cast<int64_t>(r.latencies_ms.size()))
      << " bookings)\n";
  text_table lat;
  lat.add({"", "p50", "p90", "p99", "max"});
  lat.add({"", fixed(r.p50_ms, 3), fixed(r.p90_ms, 3), fixed(r.p99_ms, 3),
           fixed(r.max_ms, 3)});
  lat.write(out);

  out << "\nFaults injected ("
      << count_text(static_cast<int64_t>(r.faults.size())) << ")\n";
  if (r.faults.empty()) {
    out << "  none\n";
  } else {
    text_table t;
    t.add({"kind", "start s", "end s"});
    for (auto& fw : r.faults)
      t.add({fw.kind, fixed(fw.start, 3), fixed(fw.end, 3)});
    t.write(out);
  }
  out << '\n';
  text_table crashes;
  crashes.add({"actor crashes", count_text(r.actor_crashes)});
  crashes.add({"process restarts", count_text(r.process_restarts)});
  crashes.write(out, "");

  if (r.broker.configured) {
    out << "\nBroker\n";
    text_table t;
    t.add({"published", count_text(r.broker.published)});
    t.add({"confirmed", count_text(r.broker.confirmed)});
    t.add({"reconnects", count_text(r.broker.reconnects)});
    t.add({"backlog", count_text(r.broker.backlog)});
    t.write(out);
  }

  out << "\nInvariants\n";
  if (r.invariants.results.empty())
    out << "  none checked\n";
  for (auto& x : r.invariants.results) {
    out << (x.passed ? "PASS" : "FAIL") << "  " << std::to_string(x.id) << ". "
        << x.name;
    if (!x.passed)
      out << " (" << count_text(static_cast<int64_t>(x.offenders.size()))
          << " offending)";
    out << '\n';
    if (!x.offenders.empty()) {
      out << "        offending:";
      auto shown = std::min(x.offenders.size(), text_offenders);
      for (size_t i = 0; i < shown; ++i)
        out << (i == 0 ? " " : ", ") << x.offenders[i];
      if (x.offenders.size() > shown)
        out << " and "
            << count_text(static_cast<int64_t>(x.offenders.size() - shown))
            << " more";
      out << '\n';
    }
    for (auto& d : x.details)
      out << "        " << d << '\n';
  }
  out << '\n'
      << (r.ok() ? "All invariants hold." : "Some invariants do NOT hold.")
      << '\n';
}

void write_json(const sim_report& r, std::ostream& out) {
  json_writer w{2};
  w.begin_object();
  w.key("scenario");
  put_string(w, r.scenario);
  w.key("mode");
  put_string(w, r.mode);
  w.key("seed");
  w.uint64(r.seed);
  w.key("requested");
  w.int64(r.requested);
  w.key("accepted");
  w.int64(r.accepted);
  w.key("refused");
  put_counts(w, r.refused);
  w.key("cancelled_on_request");
  w.int64(r.cancelled_on_request);
  w.key("duration_s");
  put_number(w, r.duration);
  w.key("throughput_per_s");
  put_number(w, r.throughput);
  w.key("outcomes");
  put_counts(w, r.outcomes);
  w.key("compensations");
  w.begin_object();
  w.key("total");
  w.int64(r.compensations);
  w.key("by_step");
  put_counts(w, r.compensations_by_step);
  w.end_object();
  w.key("retries");
  w.begin_object();
  w.key("total");
  w.int64(r.retries);
  w.key("by_step");
  put_counts(w, r.retries_by_step);
  w.end_object();
  w.key("sagas_by_version");
  put_counts(w, r.sagas_by_version);
  w.key("uncertain_resolved");
  w.int64(r.uncertain_resolved);
  w.key("latency_ms");
  w.begin_object();
  w.key("p50");
  put_number(w, r.p50_ms);
  w.key("p90");
  put_number(w, r.p90_ms);
  w.key("p99");
  put_number(w, r.p99_ms);
  w.key("max");
  put_number(w, r.max_ms);
  w.key("histogram");
  w.begin_array();
  for (auto& bin : histogram(r.latencies_ms))
    put_line(w,
             "{\"le\": " + json_number(bin.le)
               + ", \"count\": " + count_text(bin.count) + "}",
             json_kind::object);
  w.end_array();
  w.end_object();
  w.key("in_flight");
  w.begin_array();
  for (auto& s : r.in_flight)
    put_line(w,
             "[" + json_number(s.time) + ", " + count_text(s.in_flight) + "]",
             json_kind::array);
  w.end_array();
  w.key("faults");
  w.begin_array();
  for (auto& fw : r.faults) {
    w.begin_object();
    w.key("kind");
    put_string(w, fw.kind);
    w.key("start_s");
    put_number(w, fw.start);
    w.key("end_s");
    put_number(w, fw.end);
    w.end_object();
  }
  w.end_array();
  w.key("actor_crashes");
  w.int64(r.actor_crashes);
  w.key("process_restarts");
  w.int64(r.process_restarts);
  w.key("broker");
  w.begin_object();
  w.key("configured");
  w.boolean(r.broker.configured);
  w.key("published");
  w.int64(r.broker.published);
  w.key("confirmed");
  w.int64(r.broker.confirmed);
  w.key("reconnects");
  w.int64(r.broker.reconnects);
  w.key("backlog");
  w.int64(r.broker.backlog);
  w.end_object();
  w.key("invariants");
  w.begin_array();
  for (auto& x : r.invariants.results) {
    w.begin_object();
    w.key("id");
    w.int64(x.id);
    w.key("name");
    put_string(w, x.name);
    w.key("passed");
    w.boolean(x.passed);
    w.key("offenders");
    put_strings(w, x.offenders);
    w.key("details");
    put_strings(w, x.details);
    w.end_object();
  }
  w.end_array();
  w.key("ok");
  w.boolean(r.ok());
  w.end_object();
  out << w.str() << '\n';
}

void write_html(const sim_report& r, std::ostream& out) {
  auto title = "Simulation report: " + r.scenario;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
      << "<meta charset=\"utf-8\">\n"
      << "<meta name=\"viewport\" content=\"width=device-width, "
         "initial-scale=1\">\n"
      << "<title>" << esc(title) << "</title>\n"
      << "<style>" << style << "</style>\n</head>\n<body>\n"
      << "<h1>" << esc(title) << "</h1>\n"
      << "<p class=\"verdict " << (r.ok() ? "ok" : "bad") << "\">"
      << (r.ok() ? "All invariants hold." : "Some invariants do NOT hold.")
      << "</p>\n";

  out << "<h2>Summary</h2>\n<table class=\"summary\">\n";
  summary_row(out, "scenario", r.scenario);
  summary_row(out, "mode", r.mode);
  summary_row(out, "seed", std::to_string(r.seed));
  summary_row(out, "requested", count_text(r.requested));
  summary_row(out, "accepted", count_text(r.accepted));
  summary_row(out, "refused", count_text(sum_of(r.refused)));
  for (auto& [key, n] : r.refused)
    summary_row(out, "refused: " + key, count_text(n));
  summary_row(out, "cancelled on request", count_text(r.cancelled_on_request));
  summary_row(out, "duration", fixed(r.duration, 3) + " s");
  summary_row(out, "throughput", fixed(r.throughput, 3) + " sagas/s");
  summary_row(out, "compensations", count_text(r.compensations));
  summary_row(out, "retries", count_text(r.retries));
  summary_row(out, "uncertain outcomes resolved",
              count_text(r.uncertain_resolved));
  summary_row(out, "latency p50", fixed(r.p50_ms, 3) + " ms");
  summary_row(out, "latency p90", fixed(r.p90_ms, 3) + " ms");
  summary_row(out, "latency p99", fixed(r.p99_ms, 3) + " ms");
  summary_row(out, "latency max", fixed(r.max_ms, 3) + " ms");
  summary_row(out, "faults injected",
              count_text(static_cast<int64_t>(r.faults.size())));
  summary_row(out, "actor crashes", count_text(r.actor_crashes));
  summary_row(out, "process restarts", count_text(r.process_restarts));
  if (r.broker.configured) {
    summary_row(out, "broker: published", count_text(r.broker.published));
    summary_row(out, "broker: confirmed", count_text(r.broker.confirmed));
    summary_row(out, "broker: reconnects", count_text(r.broker.reconnects));
    summary_row(out, "broker: backlog", count_text(r.broker.backlog));
  }
  out << "</table>\n";

  out << "<h2>Latency</h2>\n";
  latency_chart(out, r, histogram(r.latencies_ms));

  out << "<h2>Outcomes</h2>\n";
  outcome_chart(out, r);
  count_table(out, "Outcomes", "status/reason", r.outcomes, r.accepted, -1);
  count_table(out, "Compensations by step", "step", r.compensations_by_step, 0,
              r.compensations);
  count_table(out, "Retries by step", "step", r.retries_by_step, 0, r.retries);
  count_table(out, "Sagas by table version", "saga/version", r.sagas_by_version,
              0, -1);

  out << "<h2>Sagas in flight and faults</h2>\n";
  in_flight_chart(out, r);
  if (!r.faults.empty()) {
    out << "<table>\n<caption>Faults injected</caption>\n"
        << "<tr><th>kind</th><th class=\"num\">start s</th>"
        << "<th class=\"num\">end s</th></tr>\n";
    for (auto& fw : r.faults)
      out << "<tr><td>" << esc(fw.kind) << "</td><td class=\"num\">"
          << fixed(fw.start, 3) << "</td><td class=\"num\">" << fixed(fw.end, 3)
          << "</td></tr>\n";
    out << "</table>\n";
  }

  out << "<h2>Invariants</h2>\n<table class=\"invariants\">\n"
      << "<tr><th>result</th><th class=\"num\">#</th><th>invariant</th>"
      << "<th>offending</th><th>details</th></tr>\n";
  for (auto& x : r.invariants.results) {
    out << "<tr class=\"" << (x.passed ? "pass" : "fail")
        << "\"><td class=\"result\">" << (x.passed ? "PASS" : "FAIL")
        << "</td><td class=\"num\">" << std::to_string(x.id) << "</td><td>"
        << esc(x.name) << "</td><td>";
    if (!x.offenders.empty()) {
      out << count_text(static_cast<int64_t>(x.offenders.size())) << ": ";
      auto shown = std::min(x.offenders.size(), html_offenders);
      for (size_t i = 0; i < shown; ++i)
        out << (i == 0 ? "" : ", ") << "<code>" << esc(x.offenders[i])
            << "</code>";
      if (x.offenders.size() > shown)
        out << " and "
            << count_text(static_cast<int64_t>(x.offenders.size() - shown))
            << " more";
    }
    out << "</td><td>";
    if (!x.details.empty()) {
      out << "<ul class=\"details\">";
      for (auto& d : x.details)
        out << "<li>" << esc(d) << "</li>";
      out << "</ul>";
    }
    out << "</td></tr>\n";
  }
  out << "</table>\n</body>\n</html>\n";
}

} // namespace booking
