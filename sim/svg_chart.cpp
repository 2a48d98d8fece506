#include "sim/svg_chart.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

namespace booking::svg {

std::string fixed(double x, int decimals) {
  if (!std::isfinite(x))
    return "-";
  // The largest double has 309 integral digits.
  std::array<char, 400> buf;
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), x,
                           std::chars_format::fixed, decimals);
  if (res.ec != std::errc{})
    return "-";
  std::string s(buf.data(), res.ptr);
  // A tiny negative value rounds to "-0.000", which reads like a bug.
  if (s[0] == '-' && s.find_first_of("123456789") == std::string::npos)
    s.erase(0, 1);
  return s;
}

namespace {

/// 10^e for 0 <= e; exact up to 10^22.
double power_of_ten(int e) {
  double p = 1;
  for (int i = 0; i < e; ++i)
    p *= 10;
  return p;
}

} // namespace

double scaled(double m, int e) {
  return e >= 0 ? m * power_of_ten(e) : m / power_of_ten(-e);
}

std::string esc(const std::string& x) {
  std::string r;
  r.reserve(x.size());
  for (auto c : x)
    switch (c) {
      case '&':
        r += "&amp;";
        break;
      case '<':
        r += "&lt;";
        break;
      case '>':
        r += "&gt;";
        break;
      case '"':
        r += "&quot;";
        break;
      case '\'':
        r += "&#39;";
        break;
      default:
        r += c;
    }
  return r;
}

std::string px(double x) {
  return std::isfinite(x) ? fixed(x, 1) : "0";
}

std::string cut(const std::string& x, size_t n) {
  if (x.size() <= n)
    return x;
  auto i = n - 1;
  while (i > 0 && (static_cast<unsigned char>(x[i]) & 0xC0) == 0x80)
    --i;
  return x.substr(0, i) + "\xE2\x80\xA6";
}

double text_width(const std::string& x) {
  return 7.0 * static_cast<double>(x.size());
}

tick_step nice_step(double span, int parts, bool integral) {
  if (!(span > 0) || !std::isfinite(span))
    return {};
  auto raw = span / parts;
  auto e = static_cast<int>(std::floor(std::log10(raw)));
  e = std::clamp(e, -9, 22);
  auto m = raw / scaled(1, e);
  int mantissa = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
  if (mantissa == 10) {
    mantissa = 1;
    ++e;
  }
  if (integral && e < 0) {
    mantissa = 1;
    e = 0;
  }
  return {scaled(mantissa, e), e};
}

double axis_top(double x, const tick_step& step) {
  if (!(x > 0) || !std::isfinite(x))
    return step.value;
  return std::max(1.0, std::ceil(x / step.value)) * step.value;
}

int tick_count(double top, const tick_step& step) {
  return static_cast<int>(std::lround(top / step.value));
}

void svg_open(std::ostream& out, const std::string& id, double width,
              double height, const std::string& title) {
  out << "<figure>\n<svg id=\"" << id << "\" role=\"img\" aria-label=\""
      << esc(title) << "\" viewBox=\"0 0 " << px(width) << ' ' << px(height)
      << "\" width=\"" << px(width) << "\" height=\"" << px(height) << "\">\n"
      << "<title>" << esc(title) << "</title>\n"
      << "<text class=\"chart-title\" x=\"" << px(width / 2)
      << "\" y=\"20\" text-anchor=\"middle\">" << esc(title) << "</text>\n";
}

void svg_close(std::ostream& out) {
  out << "</svg>\n</figure>\n";
}

void y_ticks(std::ostream& out, const frame& f, const tick_step& step,
             double top) {
  auto n = tick_count(top, step);
  for (int k = 0; k <= n; ++k) {
    auto v = k * step.value;
    auto y = f.bottom() - v / top * f.height;
    out << "<line class=\"grid\" x1=\"" << px(f.left) << "\" y1=\"" << px(y)
        << "\" x2=\"" << px(f.right()) << "\" y2=\"" << px(y) << "\"/>\n"
        << "<text class=\"tick\" x=\"" << px(f.left - 6) << "\" y=\""
        << px(y + 4) << "\" text-anchor=\"end\">" << fixed(v, step.decimals())
        << "</text>\n";
  }
}

void x_ticks(std::ostream& out, const frame& f, const tick_step& step,
             double top) {
  auto n = tick_count(top, step);
  for (int k = 0; k <= n; ++k) {
    auto v = k * step.value;
    auto x = f.left + v / top * f.width;
    out << "<line class=\"grid\" x1=\"" << px(x) << "\" y1=\"" << px(f.top)
        << "\" x2=\"" << px(x) << "\" y2=\"" << px(f.bottom()) << "\"/>\n"
        << "<text class=\"tick\" x=\"" << px(x) << "\" y=\""
        << px(f.bottom() + 16) << "\" text-anchor=\"middle\">"
        << fixed(v, step.decimals()) << "</text>\n";
  }
}

void axes(std::ostream& out, const frame& f) {
  out << "<line class=\"axis\" x1=\"" << px(f.left) << "\" y1=\""
      << px(f.bottom()) << "\" x2=\"" << px(f.right()) << "\" y2=\""
      << px(f.bottom()) << "\"/>\n"
      << "<line class=\"axis\" x1=\"" << px(f.left) << "\" y1=\"" << px(f.top)
      << "\" x2=\"" << px(f.left) << "\" y2=\"" << px(f.bottom()) << "\"/>\n";
}

void x_title(std::ostream& out, const frame& f, double y,
             const std::string& text) {
  out << "<text x=\"" << px(f.left + f.width / 2) << "\" y=\"" << px(y)
      << "\" text-anchor=\"middle\">" << esc(text) << "</text>\n";
}

void y_title(std::ostream& out, const frame& f, const std::string& text) {
  auto x = px(14);
  auto y = px(f.top + f.height / 2);
  out << "<text transform=\"translate(" << x << ',' << y
      << ") rotate(-90)\" text-anchor=\"middle\">" << esc(text) << "</text>\n";
}

void no_data(std::ostream& out, const frame& f, const std::string& text) {
  out << "<text class=\"empty\" x=\"" << px(f.left + f.width / 2) << "\" y=\""
      << px(f.top + f.height / 2) << "\" text-anchor=\"middle\">" << esc(text)
      << "</text>\n";
}

} // namespace booking::svg
