// Human units in the spirit of bptraf/iftop: decimal (SI) prefixes, 3 significant digits.
#pragma once

#include <cstdint>
#include <string>

namespace trafstat {

// 0 -> "0 pps", 999 -> "999 pps", 1234 -> "1.23 Kpps", 12345678 -> "12.3 Mpps", up to Gpps.
std::string format_pps(double pps);
// Same rules with bps, Kbps, Mbps, Gbps, Tbps.
std::string format_bps(double bps);
// Plain integer counts with SI prefixes for columns: 999 -> "999", 1234 -> "1.23K", 1.5e6 -> "1.50M".
std::string format_count(std::uint64_t n);

}  // namespace trafstat
