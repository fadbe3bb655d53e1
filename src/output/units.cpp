#include "output/units.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <string_view>

namespace trafstat {

namespace {

// Formats `value` with 3 significant digits and a decimal prefix:
// 999 -> "999", 1234 -> "1.23K", 999999 -> "1.00M". `sep` goes between the
// number and prefix+unit ("1.23 Kpps"; "1.23K" with an empty sep and unit).
std::string si(double value, std::string_view sep, std::string_view unit)
{
    if (!(value > 0)) {  // negative or NaN: a rate cannot be either
        value = 0;
    }
    const double whole = std::round(value);
    if (whole < 1000) {
        return fmt::format("{}{}{}", static_cast<unsigned>(whole), sep, unit);
    }
    static constexpr std::array<std::string_view, 4> prefixes = {"K", "M", "G", "T"};
    double scaled = value;
    for (std::size_t p = 0; p < prefixes.size(); ++p) {
        scaled /= 1000;
        // Decide the decimals by what the rounded text shows, so 9.996 becomes
        // "10.0" and 999.6 moves on to the next prefix as "1.00".
        for (int decimals = 2; decimals >= 0; --decimals) {
            const std::string text = fmt::format("{:.{}f}", scaled, decimals);
            double shown = 0;
            std::from_chars(text.data(), text.data() + text.size(), shown);
            const bool fits = decimals == 2 ? shown < 10 : decimals == 1 ? shown < 100 : shown < 1000;
            if (fits || (decimals == 0 && p + 1 == prefixes.size())) {
                return fmt::format("{}{}{}{}", text, sep, prefixes[p], unit);
            }
        }
    }
    return {};  // not reached: the last prefix takes any value
}

}  // namespace

std::string format_pps(double pps)
{
    return si(pps, " ", "pps");
}

std::string format_bps(double bps)
{
    return si(bps, " ", "bps");
}

std::string format_count(std::uint64_t n)
{
    return si(static_cast<double>(n), "", "");
}

}  // namespace trafstat
