#include "output/ipfix.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <map>

namespace trafstat::ipfix {
namespace {

// Information element ids (IANA "IPFIX Information Elements").
namespace ie {
constexpr std::uint16_t octetDeltaCount = 1;
constexpr std::uint16_t packetDeltaCount = 2;
constexpr std::uint16_t protocolIdentifier = 4;
constexpr std::uint16_t tcpControlBits = 6;
constexpr std::uint16_t sourceTransportPort = 7;
constexpr std::uint16_t sourceIPv4Address = 8;
constexpr std::uint16_t ingressInterface = 10;
constexpr std::uint16_t destinationTransportPort = 11;
constexpr std::uint16_t destinationIPv4Address = 12;
constexpr std::uint16_t egressInterface = 14;
constexpr std::uint16_t sourceIPv6Address = 27;
constexpr std::uint16_t destinationIPv6Address = 28;
constexpr std::uint16_t icmpTypeCodeIPv4 = 32;
constexpr std::uint16_t exportedFlowRecordTotalCount = 42;
constexpr std::uint16_t flowDirection = 61;
constexpr std::uint16_t octetTotalCount = 85;
constexpr std::uint16_t packetTotalCount = 86;
constexpr std::uint16_t flowEndReason = 136;
constexpr std::uint16_t icmpTypeCodeIPv6 = 139;
constexpr std::uint16_t observationDomainId = 149;
constexpr std::uint16_t flowStartMilliseconds = 152;
constexpr std::uint16_t flowEndMilliseconds = 153;
constexpr std::uint16_t ignoredPacketTotalCount = 164;
constexpr std::uint16_t ignoredOctetTotalCount = 165;
constexpr std::uint16_t notSentFlowTotalCount = 166;
}  // namespace ie

constexpr std::uint16_t kVersion = 10;
constexpr std::uint16_t kTemplateSetId = 2;
constexpr std::uint16_t kOptionsTemplateSetId = 3;
constexpr std::uint16_t kFirstDataSetId = 256;
constexpr std::size_t kSetHeaderSize = 4;
constexpr std::uint16_t kVariableLength = 65535;
constexpr std::uint16_t kEnterpriseBit = 0x8000;

struct Field {
    std::uint16_t id;
    std::uint16_t length;
};

struct Template {
    std::uint16_t id = 0;
    std::uint16_t scope_fields = 0;  // > 0: an options template
    std::vector<Field> fields;
    std::size_t record_size() const
    {
        std::size_t n = 0;
        for (const Field& f : fields)
            n += f.length == kVariableLength ? 1 : f.length;
        return n;
    }
};

bool is_icmp(const FlowKey& key)
{
    return key.proto == 1 || key.proto == 58;
}

// Flow templates 256..263: one per IP version, direction and ICMP-or-ports, so
// that a record carries exactly the IEs that describe it (no zero placeholders).
std::uint16_t flow_template_id(bool v6, bool egress, bool icmp)
{
    return static_cast<std::uint16_t>(kFirstDataSetId + (v6 ? 4 : 0) + (egress ? 2 : 0) + (icmp ? 1 : 0));
}
// Options templates 264 (ingress interfaces) and 265 (egress).
std::uint16_t totals_template_id(bool egress)
{
    return static_cast<std::uint16_t>(kFirstDataSetId + 8 + (egress ? 1 : 0));
}

Template flow_template(bool v6, bool egress, bool icmp)
{
    Template t;
    t.id = flow_template_id(v6, egress, icmp);
    t.fields = {{ie::flowStartMilliseconds, 8},
                {ie::flowEndMilliseconds, 8},
                {ie::octetDeltaCount, 8},
                {ie::packetDeltaCount, 8}};
    if (v6)
        t.fields.insert(t.fields.end(), {{ie::sourceIPv6Address, 16}, {ie::destinationIPv6Address, 16}});
    else
        t.fields.insert(t.fields.end(), {{ie::sourceIPv4Address, 4}, {ie::destinationIPv4Address, 4}});
    if (icmp)
        t.fields.push_back({v6 ? ie::icmpTypeCodeIPv6 : ie::icmpTypeCodeIPv4, 2});
    else
        t.fields.insert(t.fields.end(), {{ie::sourceTransportPort, 2}, {ie::destinationTransportPort, 2}});
    t.fields.insert(t.fields.end(), {{ie::protocolIdentifier, 1},
                                     {ie::tcpControlBits, 2},
                                     {egress ? ie::egressInterface : ie::ingressInterface, 4},
                                     {ie::flowDirection, 1},
                                     {ie::flowEndReason, 1}});
    return t;
}

Template totals_template(bool egress)
{
    Template t;
    t.id = totals_template_id(egress);
    t.scope_fields = 2;
    t.fields = {{ie::observationDomainId, 4},
                {egress ? ie::egressInterface : ie::ingressInterface, 4},
                {ie::ignoredPacketTotalCount, 8},
                {ie::ignoredOctetTotalCount, 8},
                {ie::exportedFlowRecordTotalCount, 8},
                {ie::notSentFlowTotalCount, 8},
                {ie::packetTotalCount, 8},
                {ie::octetTotalCount, 8}};
    return t;
}

struct Templates {
    std::array<Template, 8> flow;  // by flow_template_id() - 256
    std::array<Template, 2> totals;
};

const Templates& templates()
{
    static const Templates all = [] {
        Templates t;
        for (int v6 = 0; v6 < 2; ++v6)
            for (int egress = 0; egress < 2; ++egress)
                for (int icmp = 0; icmp < 2; ++icmp) {
                    Template f = flow_template(v6, egress, icmp);
                    t.flow[f.id - kFirstDataSetId] = std::move(f);
                }
        t.totals = {totals_template(false), totals_template(true)};
        return t;
    }();
    return all;
}

const Template& template_of(const FlowRecord& r)
{
    return templates().flow[flow_template_id(r.key.ip_version == 6, r.egress, is_icmp(r.key)) - kFirstDataSetId];
}

std::size_t template_record_size(const Template& t)
{
    return 4 + (t.scope_fields ? 2 : 0) + 4 * t.fields.size();  // no enterprise-specific IEs
}

std::size_t template_sets_size()
{
    std::size_t n = 2 * kSetHeaderSize;
    for (const Template& t : templates().flow)
        n += template_record_size(t);
    for (const Template& t : templates().totals)
        n += template_record_size(t);
    return n;
}

void put(std::vector<std::uint8_t>& out, std::uint64_t value, std::size_t length)
{
    for (std::size_t i = length; i-- > 0;)
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// An address of a key (IPv4: the last 4 bytes of the IPv4-mapped address).
void put_address(std::vector<std::uint8_t>& out, const std::array<std::uint8_t, 16>& address, std::size_t length)
{
    out.insert(out.end(), address.end() - static_cast<std::ptrdiff_t>(length), address.end());
}

void patch16(std::vector<std::uint8_t>& out, std::size_t at, std::size_t value)
{
    out[at] = static_cast<std::uint8_t>(value >> 8);
    out[at + 1] = static_cast<std::uint8_t>(value);
}

void put_template(std::vector<std::uint8_t>& out, const Template& t)
{
    put(out, t.id, 2);
    put(out, t.fields.size(), 2);
    if (t.scope_fields)
        put(out, t.scope_fields, 2);
    for (const Field& f : t.fields) {
        put(out, f.id, 2);
        put(out, f.length, 2);
    }
}

void put_field(std::vector<std::uint8_t>& out, const Field& f, const FlowRecord& r)
{
    switch (f.id) {
    case ie::flowStartMilliseconds:
        return put(out, r.start_ms, f.length);
    case ie::flowEndMilliseconds:
        return put(out, r.end_ms, f.length);
    case ie::octetDeltaCount:
        return put(out, r.octets, f.length);
    case ie::packetDeltaCount:
        return put(out, r.packets, f.length);
    case ie::sourceIPv4Address:
        return put_address(out, r.key.src, f.length);
    case ie::destinationIPv4Address:
        return put_address(out, r.key.dst, f.length);
    case ie::sourceIPv6Address:
        return put_address(out, r.key.src, f.length);
    case ie::destinationIPv6Address:
        return put_address(out, r.key.dst, f.length);
    case ie::sourceTransportPort:
        return put(out, r.key.sport, f.length);
    case ie::destinationTransportPort:
        return put(out, r.key.dport, f.length);
    case ie::icmpTypeCodeIPv4:
    case ie::icmpTypeCodeIPv6:
        return put(out, (r.key.sport & 0xffu) << 8 | (r.key.dport & 0xffu), f.length);
    case ie::protocolIdentifier:
        return put(out, r.key.proto, f.length);
    case ie::tcpControlBits:
        return put(out, r.tcp_flags, f.length);
    case ie::ingressInterface:
    case ie::egressInterface:
        return put(out, r.ifindex, f.length);
    case ie::flowDirection:
        return put(out, r.egress ? 1 : 0, f.length);
    case ie::flowEndReason:
        return put(out, static_cast<std::uint8_t>(r.end_reason), f.length);
    }
}

void put_field(std::vector<std::uint8_t>& out, const Field& f, const ExporterTotals& t, std::uint32_t domain)
{
    switch (f.id) {
    case ie::observationDomainId:
        return put(out, domain, f.length);
    case ie::ingressInterface:
    case ie::egressInterface:
        return put(out, t.ifindex, f.length);
    case ie::ignoredPacketTotalCount:
        return put(out, t.ignored_packets, f.length);
    case ie::ignoredOctetTotalCount:
        return put(out, t.ignored_octets, f.length);
    case ie::exportedFlowRecordTotalCount:
        return put(out, t.exported_records, f.length);
    case ie::notSentFlowTotalCount:
        return put(out, t.not_sent_records, f.length);
    case ie::packetTotalCount:
        return put(out, t.packets_total, f.length);
    case ie::octetTotalCount:
        return put(out, t.octets_total, f.length);
    }
}

// Cuts the records into messages of at most `mtu` bytes, one data set per run
// of records of the same template.
class MessageWriter {
public:
    MessageWriter(std::uint32_t domain, std::size_t mtu, std::uint32_t export_time, std::uint32_t& sequence)
        : domain_(domain), mtu_(mtu), export_time_(export_time), sequence_(sequence)
    {}

    void put_templates()
    {
        const Templates& all = templates();
        open_set(kTemplateSetId);
        for (const Template& t : all.flow)
            put_template(message_, t);
        open_set(kOptionsTemplateSetId);
        for (const Template& t : all.totals)
            put_template(message_, t);
        close_set();
    }

    template <class Write>
    void record(const Template& t, Write&& write)
    {
        const std::size_t size = t.record_size() + (set_id_ == t.id ? 0 : kSetHeaderSize);
        if (message_.size() + size > mtu_)
            finish();
        open_set(t.id);
        write(message_);
        ++data_records_;
    }

    std::vector<std::vector<std::uint8_t>> done()
    {
        if (message_.size() > kMessageHeaderSize)
            finish();
        return std::move(messages_);
    }

private:
    void open_set(std::uint16_t id)
    {
        if (message_.empty())
            message_.resize(kMessageHeaderSize);
        if (set_id_ == id)
            return;
        close_set();
        set_start_ = message_.size();
        put(message_, id, 2);
        put(message_, 0, 2);  // the length, when the set is closed
        set_id_ = id;
    }
    void close_set()
    {
        if (set_id_ != 0)
            patch16(message_, set_start_ + 2, message_.size() - set_start_);
        set_id_ = 0;
    }
    void finish()
    {
        close_set();
        std::vector<std::uint8_t> header;
        put(header, kVersion, 2);
        put(header, message_.size(), 2);
        put(header, export_time_, 4);
        put(header, sequence_, 4);
        put(header, domain_, 4);
        std::copy(header.begin(), header.end(), message_.begin());
        sequence_ += data_records_;  // mod 2^32
        data_records_ = 0;
        messages_.push_back(std::move(message_));
        message_.clear();
    }

    std::uint32_t domain_;
    std::size_t mtu_;
    std::uint32_t export_time_;
    std::uint32_t& sequence_;
    std::vector<std::uint8_t> message_;
    std::vector<std::vector<std::uint8_t>> messages_;
    std::uint16_t set_id_ = 0;
    std::size_t set_start_ = 0;
    std::uint32_t data_records_ = 0;
};

}  // namespace

std::uint32_t sequence_of(std::span<const std::uint8_t> message)
{
    if (message.size() < kMessageHeaderSize)
        return 0;
    return (std::uint32_t{message[8]} << 24) | (std::uint32_t{message[9]} << 16) | (std::uint32_t{message[10]} << 8) |
           std::uint32_t{message[11]};
}

std::size_t minimum_mtu()
{
    const std::size_t largest_record = template_of(FlowRecord{.key = {.ip_version = 6}}).record_size();
    return kMessageHeaderSize + std::max(template_sets_size(), kSetHeaderSize + largest_record);
}

Encoder::Encoder(std::uint32_t observation_domain, std::size_t mtu, double template_refresh_s)
    : domain_(observation_domain), mtu_(mtu), refresh_s_(template_refresh_s)
{
    if (mtu < minimum_mtu() || mtu > 65535)
        throw Error(exit_code::usage, fmt::format("an IPFIX message size (MTU) of {} bytes is out of range: it holds "
                                                  "every template from {} bytes, and at most 65535",
                                                  mtu, minimum_mtu()));
}

std::vector<std::vector<std::uint8_t>>
Encoder::encode(std::span<const FlowRecord> records, std::span<const ExporterTotals> totals, std::uint32_t export_time)
{
    if (refresh_s_ > 0 && double(export_time) - double(templates_sent_at_) >= refresh_s_)
        templates_due_ = true;
    MessageWriter writer(domain_, mtu_, export_time, sequence_);
    if (templates_due_) {
        writer.put_templates();
        templates_due_ = false;
        templates_sent_at_ = export_time;
    }
    for (const FlowRecord& r : records) {
        const Template& t = template_of(r);
        writer.record(t, [&](std::vector<std::uint8_t>& out) {
            for (const Field& f : t.fields)
                put_field(out, f, r);
        });
    }
    for (const ExporterTotals& x : totals) {
        const Template& t = templates().totals[x.egress ? 1 : 0];
        writer.record(t, [&](std::vector<std::uint8_t>& out) {
            for (const Field& f : t.fields)
                put_field(out, f, x, domain_);
        });
    }
    return writer.done();
}

namespace {

[[noreturn]] void malformed(std::size_t offset, const std::string& what)
{
    throw Error(exit_code::runtime, fmt::format("malformed IPFIX at byte {}: {}", offset, what));
}

class Reader {
public:
    Reader(std::span<const std::uint8_t> bytes, std::size_t base) : bytes_(bytes), base_(base) {}
    std::size_t left() const { return bytes_.size() - pos_; }
    std::size_t offset() const { return base_ + pos_; }
    std::span<const std::uint8_t> take(std::size_t n, const char* what)
    {
        if (n > left())
            malformed(offset(), fmt::format("{} cut short", what));
        auto out = bytes_.subspan(pos_, n);
        pos_ += n;
        return out;
    }
    std::uint64_t number(std::size_t n, const char* what)
    {
        std::uint64_t v = 0;
        for (std::uint8_t b : take(n, what))
            v = v << 8 | b;
        return v;
    }
    std::uint16_t u16(const char* what) { return static_cast<std::uint16_t>(number(2, what)); }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t base_;
    std::size_t pos_ = 0;
};

Template read_template(Reader& set, bool options)
{
    Template t;
    t.id = set.u16("template record");
    const std::uint16_t count = set.u16("template record");
    if (options && count)
        t.scope_fields = set.u16("options template record");
    if (t.id < kFirstDataSetId)
        malformed(set.offset(), fmt::format("template id {} below 256", t.id));
    if (options && count && (t.scope_fields == 0 || t.scope_fields > count))
        malformed(set.offset(),
                  fmt::format("options template {}: scope field count {} of {}", t.id, t.scope_fields, count));
    for (std::uint16_t i = 0; i < count; ++i) {
        Field f{set.u16("template field"), set.u16("template field")};
        if (f.id & kEnterpriseBit) {
            set.number(4, "enterprise number");
            f.id = 0;  // not one of ours (no IANA IE has id 0): read past it
        }
        if (f.length == 0)
            malformed(set.offset(), fmt::format("template {}: field of length 0", t.id));
        t.fields.push_back(f);
    }
    return t;
}

// How the decoder reads an IE: one of trafstat's numbers or addresses, or
// another exporter's IE that it reads past.
enum class FieldKind { other, number, address };

FieldKind kind_of(std::uint16_t id)
{
    switch (id) {
    case ie::sourceIPv4Address:
    case ie::destinationIPv4Address:
    case ie::sourceIPv6Address:
    case ie::destinationIPv6Address:
        return FieldKind::address;
    case ie::octetDeltaCount:
    case ie::packetDeltaCount:
    case ie::protocolIdentifier:
    case ie::tcpControlBits:
    case ie::sourceTransportPort:
    case ie::ingressInterface:
    case ie::destinationTransportPort:
    case ie::egressInterface:
    case ie::icmpTypeCodeIPv4:
    case ie::exportedFlowRecordTotalCount:
    case ie::flowDirection:
    case ie::octetTotalCount:
    case ie::packetTotalCount:
    case ie::flowEndReason:
    case ie::icmpTypeCodeIPv6:
    case ie::observationDomainId:
    case ie::flowStartMilliseconds:
    case ie::flowEndMilliseconds:
    case ie::ignoredPacketTotalCount:
    case ie::ignoredOctetTotalCount:
    case ie::notSentFlowTotalCount:
        return FieldKind::number;
    }
    return FieldKind::other;
}

void set_address(std::array<std::uint8_t, 16>& to, std::span<const std::uint8_t> from)
{
    to = {};
    if (from.size() == 4) {
        to[10] = to[11] = 0xff;  // IPv4-mapped, as abi.h keys hold it
        std::copy(from.begin(), from.end(), to.begin() + 12);
    } else {
        std::copy(from.begin(), from.end(), to.begin());
    }
}

void read_field(const Field& f, std::span<const std::uint8_t> value, std::uint64_t number, FlowRecord& r)
{
    switch (f.id) {
    case ie::flowStartMilliseconds:
        r.start_ms = number;
        break;
    case ie::flowEndMilliseconds:
        r.end_ms = number;
        break;
    case ie::octetDeltaCount:
        r.octets = number;
        break;
    case ie::packetDeltaCount:
        r.packets = number;
        break;
    case ie::sourceIPv4Address:
    case ie::sourceIPv6Address:
        set_address(r.key.src, value);
        r.key.ip_version = value.size() == 4 ? 4 : 6;
        break;
    case ie::destinationIPv4Address:
    case ie::destinationIPv6Address:
        set_address(r.key.dst, value);
        break;
    case ie::sourceTransportPort:
        r.key.sport = static_cast<std::uint16_t>(number);
        break;
    case ie::destinationTransportPort:
        r.key.dport = static_cast<std::uint16_t>(number);
        break;
    case ie::icmpTypeCodeIPv4:
    case ie::icmpTypeCodeIPv6:
        r.key.sport = static_cast<std::uint16_t>(number >> 8 & 0xff);
        r.key.dport = static_cast<std::uint16_t>(number & 0xff);
        break;
    case ie::protocolIdentifier:
        r.key.proto = static_cast<std::uint8_t>(number);
        break;
    case ie::tcpControlBits:
        r.tcp_flags = static_cast<std::uint8_t>(number);
        break;
    case ie::ingressInterface:
        r.ifindex = static_cast<std::uint32_t>(number);
        break;
    case ie::egressInterface:
        r.ifindex = static_cast<std::uint32_t>(number);
        r.egress = true;
        break;
    case ie::flowDirection:
        r.egress = number == 1;
        break;
    case ie::flowEndReason:
        r.end_reason = static_cast<EndReason>(number);
        break;
    }
}

void read_field(const Field& f, std::uint64_t number, ExporterTotals& t)
{
    switch (f.id) {
    case ie::ingressInterface:
        t.ifindex = static_cast<std::uint32_t>(number);
        break;
    case ie::egressInterface:
        t.ifindex = static_cast<std::uint32_t>(number);
        t.egress = true;
        break;
    case ie::ignoredPacketTotalCount:
        t.ignored_packets = number;
        break;
    case ie::ignoredOctetTotalCount:
        t.ignored_octets = number;
        break;
    case ie::exportedFlowRecordTotalCount:
        t.exported_records = number;
        break;
    case ie::notSentFlowTotalCount:
        t.not_sent_records = number;
        break;
    case ie::packetTotalCount:
        t.packets_total = number;
        break;
    case ie::octetTotalCount:
        t.octets_total = number;
        break;
    }
}

void read_record(Reader& set, const Template& t, Decoded& out)
{
    FlowRecord flow;
    ExporterTotals totals;
    for (const Field& f : t.fields) {
        std::size_t length = f.length;
        if (length == kVariableLength) {
            length = set.number(1, "variable-length field");
            if (length == 255)
                length = set.u16("variable-length field");
        }
        const auto value = set.take(length, "data record");
        const FieldKind kind = kind_of(f.id);
        if (kind == FieldKind::other)
            continue;
        if (kind == FieldKind::number && length > 8)
            malformed(set.offset(), fmt::format("IE {} of {} bytes", f.id, length));
        const bool v4 = f.id == ie::sourceIPv4Address || f.id == ie::destinationIPv4Address;
        if (kind == FieldKind::address && length != (v4 ? 4u : 16u))
            malformed(set.offset(), fmt::format("address IE {} of {} bytes", f.id, length));
        std::uint64_t number = 0;
        if (kind == FieldKind::number)
            for (std::uint8_t b : value)
                number = number << 8 | b;
        if (t.scope_fields)
            read_field(f, number, totals);
        else
            read_field(f, value, number, flow);
    }
    if (t.scope_fields)
        out.totals.push_back(totals);
    else
        out.records.push_back(flow);
}

}  // namespace

std::vector<Decoded> decode(std::span<const std::uint8_t> stream)
{
    std::map<std::pair<std::uint32_t, std::uint16_t>, Template> known;  // by (domain, template id)
    std::vector<Decoded> out;
    std::size_t at = 0;
    while (at < stream.size()) {
        Reader header(stream.subspan(at), at);
        const std::uint16_t version = header.u16("message header");
        const std::uint16_t length = header.u16("message header");
        if (version != kVersion)
            malformed(at, fmt::format("version {}, not 10", version));
        if (length < kMessageHeaderSize || length > stream.size() - at)
            malformed(at, fmt::format("message length {} with {} bytes left", length, stream.size() - at));
        Decoded d;
        d.export_time = static_cast<std::uint32_t>(header.number(4, "message header"));
        d.sequence = static_cast<std::uint32_t>(header.number(4, "message header"));
        d.domain = static_cast<std::uint32_t>(header.number(4, "message header"));
        Reader sets(stream.subspan(at + kMessageHeaderSize, length - kMessageHeaderSize), at + kMessageHeaderSize);
        while (sets.left() > 0) {
            const std::size_t set_at = sets.offset();
            const std::uint16_t id = sets.u16("set header");
            const std::uint16_t set_length = sets.u16("set header");
            if (set_length < kSetHeaderSize)
                malformed(set_at, fmt::format("set length {}", set_length));
            Reader set(sets.take(set_length - kSetHeaderSize, "set"), set_at + kSetHeaderSize);
            if (id == kTemplateSetId || id == kOptionsTemplateSetId) {
                while (set.left() >= 4) {  // less: padding
                    Template t = read_template(set, id == kOptionsTemplateSetId);
                    ++d.template_records;
                    if (t.fields.empty())
                        known.erase({d.domain, t.id});  // a withdrawal
                    else
                        known[{d.domain, t.id}] = std::move(t);
                }
            } else if (id >= kFirstDataSetId) {
                const auto it = known.find({d.domain, id});
                if (it == known.end())
                    malformed(set_at, fmt::format("data set {} before its template", id));
                while (set.left() > 0 && set.left() >= it->second.record_size())
                    read_record(set, it->second, d);
            } else {
                malformed(set_at, fmt::format("reserved set id {}", id));
            }
        }
        out.push_back(std::move(d));
        at += length;
    }
    return out;
}

}  // namespace trafstat::ipfix
