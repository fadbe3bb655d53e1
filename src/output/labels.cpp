#include "output/labels.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <fmt/format.h>
#include <map>
#include <mutex>

namespace trafstat {

std::string format_ip(const std::array<std::uint8_t, 16>& addr, std::uint8_t ip_version)
{
    char buf[INET6_ADDRSTRLEN] = {};
    if (ip_version == 4) {
        if (!inet_ntop(AF_INET, addr.data() + 12, buf, sizeof buf))
            return "?";
    } else if (!inet_ntop(AF_INET6, addr.data(), buf, sizeof buf)) {
        return "?";
    }
    return buf;
}

std::string proto_name(std::uint8_t proto)
{
    switch (proto) {
    case IPPROTO_TCP:
        return "tcp";
    case IPPROTO_UDP:
        return "udp";
    case IPPROTO_ICMP:
        return "icmp";
    case IPPROTO_ICMPV6:
        return "icmpv6";
    case IPPROTO_SCTP:
        return "sctp";
    case IPPROTO_GRE:
        return "gre";
    case IPPROTO_ESP:
        return "esp";
    default:
        return std::to_string(proto);
    }
}

std::string flow_label(const FlowEntry& f)
{
    const bool v6 = f.key.ip_version == 6;
    auto end = [&](const std::array<std::uint8_t, 16>& ip, std::uint16_t port) {
        const auto addr = format_ip(ip, f.key.ip_version);
        if (!has_ports(f.key.proto))
            return addr;
        return v6 ? fmt::format("[{}]:{}", addr, port) : fmt::format("{}:{}", addr, port);
    };
    auto label =
        fmt::format("{} {} > {}", proto_name(f.key.proto), end(f.key.src, f.key.sport), end(f.key.dst, f.key.dport));
    if (f.key.proto == IPPROTO_ICMP || f.key.proto == IPPROTO_ICMPV6)
        label += fmt::format(" type {} code {}", f.key.sport, f.key.dport);
    return label;
}

std::string port_label(const Port& p)
{
    auto label = fmt::format("{}/{}", proto_name(p.proto), p.port);
    if (auto service = service_name(p.port, p.proto))
        label += fmt::format(" ({})", *service);
    return label;
}

std::optional<std::string> service_name(std::uint16_t port, std::uint8_t proto)
{
    // getservbyport is not reentrant; names do not change during a run.
    static std::mutex mutex;
    static std::map<std::pair<std::uint8_t, std::uint16_t>, std::optional<std::string>> cache;
    const char* p = proto == IPPROTO_TCP    ? "tcp"
                    : proto == IPPROTO_UDP  ? "udp"
                    : proto == IPPROTO_SCTP ? "sctp"
                                            : nullptr;
    if (!p)
        return std::nullopt;
    std::lock_guard lock(mutex);
    auto [it, fresh] = cache.try_emplace({proto, port});
    if (fresh) {
        if (const servent* s = getservbyport(htons(port), p))
            it->second = s->s_name;
    }
    return it->second;
}

}  // namespace trafstat
