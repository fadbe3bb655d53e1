#include "app/ipfix_export.hpp"

#include "base/printable.hpp"

#include <chrono>
#include <cstdio>
#include <fmt/format.h>

namespace trafstat {
namespace {

std::unique_ptr<ipfix::Sink> sink_for(const ExportConfig& c)
{
    if (!c.file.empty())
        return std::make_unique<ipfix::FileSink>(c.file);
    return std::make_unique<ipfix::UdpSink>(c.collector);
}

}  // namespace

std::uint64_t unix_ms()
{
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
}

std::uint32_t unix_s()
{
    return static_cast<std::uint32_t>(unix_ms() / 1000);
}

IpfixExporter::IpfixExporter(const ExportConfig& config)
    : destination_(config.file.empty() ? config.collector : config.file), timeouts_{config.active_timeout_s,
                                                                                    config.idle_timeout_s},
      sink_(sink_for(config)),
      // A file is read from its start: its templates once, at the start.
      encoder_(config.observation_domain, config.mtu, config.file.empty() ? config.template_refresh_s : 0)
{}

std::size_t IpfixExporter::follow(std::uint32_t ifindex, bool egress)
{
    flows_.emplace_back(timeouts_, ifindex, egress);
    return flows_.size() - 1;
}

void IpfixExporter::epoch(std::size_t i, std::span<const FlowEntry> flows, const ClassCounters& delta,
                          std::uint64_t now_ms)
{
    flows_[i].count(delta);
    std::vector<FlowRecord> due = flows_[i].add(flows, now_ms);
    due_.insert(due_.end(), due.begin(), due.end());
}

void IpfixExporter::send(std::uint32_t export_time_s)
{
    std::vector<ExporterTotals> totals;
    for (const FlowExport& f : flows_) {
        totals.push_back(f.totals());
        totals.back().not_sent_records = sink_->records_not_sent();
    }
    const auto messages = encoder_.encode(due_, totals, export_time_s);
    for (std::size_t k = 0; k < messages.size(); ++k) {
        const std::uint32_t next = k + 1 < messages.size() ? ipfix::sequence_of(messages[k + 1]) : encoder_.sequence();
        sink_->send(messages[k], next - ipfix::sequence_of(messages[k]));
    }
    due_.clear();
}

void IpfixExporter::finish(std::uint32_t export_time_s)
{
    for (FlowExport& f : flows_) {
        std::vector<FlowRecord> last = f.flush();
        due_.insert(due_.end(), last.begin(), last.end());
    }
    send(export_time_s);
    const std::uint64_t not_sent = sink_->records_not_sent();
    std::fprintf(stderr, "trafstat: IPFIX: %llu flow records exported to %s%s\n",
                 static_cast<unsigned long long>(records_exported()), printable(destination_).c_str(),
                 not_sent ? fmt::format("; {} data records could not be sent", not_sent).c_str() : "");
}

std::uint64_t IpfixExporter::records_exported() const
{
    std::uint64_t n = 0;
    for (const FlowExport& f : flows_)
        n += f.totals().exported_records;
    return n;
}

}  // namespace trafstat
