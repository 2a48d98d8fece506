// A small SVG chart kit for the simulator's HTML report: plot frames, axis
// steps that land on round numbers, ticks, titles and the text escaping and
// number formats they need. Charts are written to a stream as they are
// drawn; nothing here knows about the report itself.
//
//   frame f{64, 40, 636, 236};
//   auto step = nice_step(most, 5, true);
//   auto top = axis_top(most, step);
//   svg_open(out, "latency-chart", 720, 360, "Latency");
//   y_ticks(out, f, step, top);
//   ... bars ...
//   axes(out, f);
//   svg_close(out);

#pragma once

#include <cstddef>
#include <ostream>
#include <string>

namespace booking::svg {

/// `x` with `decimals` fixed decimals, or "-" if it is not finite.
/// std::to_chars, unlike printf, never consults the C locale.
std::string fixed(double x, int decimals);

/// m x 10^e, rounded once: dividing by an exact power of ten gives the
/// double nearest to the decimal number, so 15 x 10^-3 equals 0.015.
double scaled(double m, int e);

/// `x` safe in HTML text and in a double- or single-quoted attribute.
std::string esc(const std::string& x);

/// An SVG coordinate or length: one decimal, 0 if not finite.
std::string px(double x);

/// At most `n` characters of `x`, with an ellipsis if cut; for labels
/// whose full text is in a tooltip. Cuts only at ASCII characters, so a
/// UTF-8 sequence stays whole.
std::string cut(const std::string& x, size_t n);

/// Rough width of a label in px at the charts' 12px font, for layout.
double text_width(const std::string& x);

/// The plot area of a chart, inside its margins.
struct frame {
  double left = 0;
  double top = 0;
  double width = 0;
  double height = 0;

  double bottom() const {
    return top + height;
  }

  double right() const {
    return left + width;
  }
};

/// A step of 1, 2 or 5 x 10^exponent between axis ticks.
struct tick_step {
  double value = 1;
  int exponent = 0;

  /// Decimals for tick labels.
  int decimals() const {
    return std::max(0, -exponent);
  }
};

/// The step that cuts [0, `span`] into about `parts` pieces; at least 1 if
/// `integral` (counts have no fractions).
tick_step nice_step(double span, int parts, bool integral);

/// The axis maximum: `x` rounded up to a whole step, at least one step.
double axis_top(double x, const tick_step& step);

/// Number of ticks above 0 up to `top`.
int tick_count(double top, const tick_step& step);

/// Opens a chart: the accessible name twice (aria-label for screen readers,
/// <title> for tooltips and older readers) and the visible title.
void svg_open(std::ostream& out, const std::string& id, double width,
              double height, const std::string& title);

void svg_close(std::ostream& out);

/// Horizontal grid lines and labels of a vertical value axis.
void y_ticks(std::ostream& out, const frame& f, const tick_step& step,
             double top);

/// Vertical grid lines and labels of a horizontal value axis.
void x_ticks(std::ostream& out, const frame& f, const tick_step& step,
             double top);

/// The two axis lines, drawn over the grid.
void axes(std::ostream& out, const frame& f);

void x_title(std::ostream& out, const frame& f, double y,
             const std::string& text);

void y_title(std::ostream& out, const frame& f, const std::string& text);

/// The note in an empty plot.
void no_data(std::ostream& out, const frame& f, const std::string& text);

} // namespace booking::svg
