#include "stats/report.hpp"

namespace trafstat {

ClassCounters total_of(const std::vector<AttachmentReport>& attachments)
{
    ClassCounters total;
    for (const AttachmentReport& a : attachments) {
        total += a.counters;
    }
    return total;
}

}  // namespace trafstat
