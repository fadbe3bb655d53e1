// The IPFIX encoder (docs/ipfix.md): round trips through its own decoder,
// message sizes, sequence numbers and template timing, then the real
// decoders: ipfixDump (libfixbuf-tools) on a file and nfcapd/nfdump over UDP.
#include "output/ipfix.hpp"
#include "output/ipfix_sink.hpp"
#include "support/privileged.hpp"

#include "base/error.hpp"
#include "base/exit_codes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace trafstat::ipfix {
namespace {

FlowKey key(const char* src, const char* dst, std::uint8_t proto, std::uint16_t sport, std::uint16_t dport)
{
    FlowKey k;
    k.proto = proto;
    k.sport = sport;
    k.dport = dport;
    if (inet_pton(AF_INET, src, k.src.data() + 12) == 1) {
        k.ip_version = 4;
        k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
        inet_pton(AF_INET, dst, k.dst.data() + 12);
    } else {
        k.ip_version = 6;
        inet_pton(AF_INET6, src, k.src.data());
        inet_pton(AF_INET6, dst, k.dst.data());
    }
    return k;
}

constexpr std::uint64_t kStartMs = 1764496036123;  // 2025-11-30 09:47:16.123 UTC

std::vector<FlowRecord> sample_records()
{
    std::vector<FlowRecord> r(5);
    r[0] = {key("192.0.2.1", "198.51.100.7", 6, 40000, 443),
            kStartMs,
            kStartMs + 1500,
            12,
            3456,
            0x1b,
            2,
            false,
            EndReason::end_of_flow};
    r[1] = {key("2001:db8::1", "2001:db8::2", 17, 5353, 53),
            kStartMs + 7,
            kStartMs + 8,
            2,
            180,
            0,
            3,
            true,
            EndReason::idle_timeout};
    r[2] = {key("192.0.2.1", "198.51.100.9", 1, 8, 0),
            kStartMs + 10,
            kStartMs + 2010,
            3,
            294,
            0,
            2,
            false,
            EndReason::active_timeout};
    r[3] = {key("2001:db8::1", "2001:0db8::0003", 58, 128, 0),
            kStartMs + 20,
            kStartMs + 21,
            1,
            118,
            0,
            2,
            false,
            EndReason::forced_end};
    r[4] = {key("198.51.100.7", "192.0.2.1", 17, 123, 123),
            kStartMs + 30,
            kStartMs + 30,
            1,
            90,
            0,
            3,
            true,
            EndReason::lack_of_resources};
    return r;
}

std::vector<ExporterTotals> sample_totals()
{
    return {{2, false, 5, 600, 3, 1, 22, 4350}, {3, true, 0, 0, 2, 0, 3, 270}};
}

std::vector<std::uint8_t> joined(const std::vector<std::vector<std::uint8_t>>& messages)
{
    std::vector<std::uint8_t> out;
    for (const auto& m : messages)
        out.insert(out.end(), m.begin(), m.end());
    return out;
}

// What a collector has received: the messages so far, decoded with the
// templates they taught; add() returns the new messages.
struct Received {
    std::vector<std::uint8_t> stream;
    std::size_t messages = 0;
    std::vector<Decoded> add(const std::vector<std::vector<std::uint8_t>>& more)
    {
        const auto bytes = joined(more);
        stream.insert(stream.end(), bytes.begin(), bytes.end());
        auto all = decode(stream);
        std::vector<Decoded> fresh(all.begin() + static_cast<std::ptrdiff_t>(messages), all.end());
        messages = all.size();
        return fresh;
    }
};

std::vector<FlowRecord> many_records(std::size_t n)
{
    std::vector<FlowRecord> out;
    const auto samples = sample_records();
    for (std::size_t i = 0; i < n; ++i) {
        FlowRecord r = samples[i % samples.size()];
        r.packets = i + 1;
        r.octets = 64 * (i + 1);
        out.push_back(r);
    }
    return out;
}

TEST(Ipfix, EndReasonsHaveIanaValuesAndNames)
{
    EXPECT_EQ(static_cast<int>(EndReason::idle_timeout), 1);
    EXPECT_EQ(static_cast<int>(EndReason::lack_of_resources), 5);
    EXPECT_EQ(kEndReasonNames.name(EndReason::end_of_flow), "end-of-flow");
    EXPECT_EQ(kEndReasonNames.parse("forced-end"), EndReason::forced_end);
}

TEST(Ipfix, RoundTripOfEveryTemplateAndTheTotals)
{
    Encoder encoder(42, kDefaultMtu, 600);
    const auto records = sample_records();
    const auto totals = sample_totals();
    const auto messages = encoder.encode(records, totals, 1764496040);
    ASSERT_EQ(messages.size(), 1u);
    const auto decoded = decode(joined(messages));
    ASSERT_EQ(decoded.size(), 1u);
    EXPECT_EQ(decoded[0].records, records);
    EXPECT_EQ(decoded[0].totals, totals);
    EXPECT_EQ(decoded[0].domain, 42u);
    EXPECT_EQ(decoded[0].export_time, 1764496040u);
    EXPECT_EQ(decoded[0].sequence, 0u);
    EXPECT_EQ(decoded[0].template_records, 10u);  // 8 flow templates, 2 options templates
}

TEST(Ipfix, EveryMessageFitsTheMtuAndHoldsTheRecordsInOrder)
{
    for (std::size_t mtu : {minimum_mtu(), kDefaultMtu, std::size_t{9000}}) {
        Encoder encoder(1, mtu, 0);
        const auto records = many_records(5000);
        const auto totals = sample_totals();
        const auto messages = encoder.encode(records, totals, 1000);
        EXPECT_GT(messages.size(), 5000 * 55 / mtu);
        for (const auto& m : messages)
            ASSERT_LE(m.size(), mtu);
        std::vector<FlowRecord> back;
        std::vector<ExporterTotals> back_totals;
        for (const Decoded& d : decode(joined(messages))) {
            back.insert(back.end(), d.records.begin(), d.records.end());
            back_totals.insert(back_totals.end(), d.totals.begin(), d.totals.end());
        }
        EXPECT_EQ(back, records) << "mtu " << mtu;
        EXPECT_EQ(back_totals, totals) << "mtu " << mtu;
    }
}

// RFC 7011 3.1: the data records (options data records too) sent before the
// message in this domain; template records are not counted.
TEST(Ipfix, SequenceNumbersCountTheDataRecordsSentBefore)
{
    Encoder encoder(1, 600, 0);
    Received received;
    std::uint32_t expected = 0;
    for (std::uint32_t round = 0; round < 3; ++round) {
        const auto decoded = received.add(encoder.encode(many_records(700), sample_totals(), 1000 + round));
        ASSERT_GT(decoded.size(), 1u);
        for (const Decoded& d : decoded) {
            EXPECT_EQ(d.sequence, expected);
            expected += static_cast<std::uint32_t>(d.records.size() + d.totals.size());
        }
    }
    EXPECT_EQ(expected, 3u * 702u);
}

std::size_t template_records(Encoder& encoder, Received& received, std::uint32_t now, std::size_t records = 1)
{
    std::size_t n = 0;
    for (const Decoded& d : received.add(encoder.encode(many_records(records), {}, now)))
        n += d.template_records;
    return n;
}

TEST(Ipfix, TemplatesInTheFirstMessageThenWhenDue)
{
    Encoder encoder(1, kDefaultMtu, 300);
    Received received;
    EXPECT_EQ(template_records(encoder, received, 1000, 100), 10u);  // several messages, templates in the first only
    EXPECT_EQ(template_records(encoder, received, 1001), 0u);
    EXPECT_EQ(template_records(encoder, received, 1299), 0u);
    EXPECT_EQ(template_records(encoder, received, 1300), 10u);
    EXPECT_EQ(template_records(encoder, received, 1301), 0u);
    encoder.resend_templates();
    EXPECT_EQ(template_records(encoder, received, 1302), 10u);
    EXPECT_EQ(template_records(encoder, received, 1303), 0u);
}

TEST(Ipfix, WithoutRefreshTemplatesOnlyFirstAndOnRequest)
{
    Encoder encoder(1, kDefaultMtu, 0);
    // Nothing to send yet: a message of templates alone, then nothing at all.
    Received received;
    const auto first = received.add(encoder.encode({}, {}, 1000));
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].template_records, 10u);
    EXPECT_TRUE(encoder.encode({}, {}, 1001).empty());
    EXPECT_EQ(template_records(encoder, received, 100000), 0u);
    encoder.resend_templates();
    EXPECT_EQ(template_records(encoder, received, 100001), 10u);
}

TEST(Ipfix, MtuTooSmallForTheTemplatesIsAUsageError)
{
    EXPECT_NO_THROW(Encoder(1, minimum_mtu(), 0));
    try {
        Encoder(1, minimum_mtu() - 1, 0);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::usage);
        EXPECT_NE(std::string(e.what()).find(std::to_string(minimum_mtu())), std::string::npos) << e.what();
    }
    EXPECT_THROW(Encoder(1, 65536, 0), Error);
}

TEST(Ipfix, MalformedInputIsAnError)
{
    Encoder encoder(1, kDefaultMtu, 0);
    auto stream = joined(encoder.encode(sample_records(), sample_totals(), 1000));
    auto cut = stream;
    cut.resize(cut.size() - 3);
    EXPECT_THROW(decode(cut), Error);
    auto bad_version = stream;
    bad_version[1] = 9;
    EXPECT_THROW(decode(bad_version), Error);
    // A data set whose template was never seen.
    const auto later = joined(encoder.encode(sample_records(), {}, 1001));
    EXPECT_THROW(decode(later), Error);
    EXPECT_NO_THROW(decode(stream));
}

// Another exporter's template: a variable-length IE (interfaceName, 82) and an
// enterprise-specific one are read past; packetDeltaCount in 4 bytes is read.
TEST(Ipfix, DecoderReadsPastOtherExportersIes)
{
    std::vector<std::uint8_t> m;
    auto u16 = [&m](unsigned v) { m.insert(m.end(), {std::uint8_t(v >> 8), std::uint8_t(v)}); };
    auto u32 = [&](unsigned v) { u16(v >> 16), u16(v & 0xffff); };
    u16(10), u16(54), u32(1), u32(0), u32(9);  // header: length 54, domain 9
    u16(2), u16(24), u16(256), u16(3);         // template set: template 256, 3 fields
    u16(82), u16(0xffff);                      //   interfaceName, variable length
    u16(0x8001), u16(2), u32(8080);            //   enterprise 8080's IE 1, 2 bytes
    u16(2), u16(4);                            //   packetDeltaCount in 4 bytes
    u16(256), u16(14);                         // data set 256
    m.insert(m.end(), {3, 'e', 't', 'h'});     //   "eth"
    u16(0xabcd);                               //   the enterprise IE
    u32(258);                                  //   258 packets
    const auto decoded = decode(m);
    ASSERT_EQ(decoded.size(), 1u);
    ASSERT_EQ(decoded[0].records.size(), 1u);
    EXPECT_EQ(decoded[0].records[0].packets, 258u);
    EXPECT_EQ(decoded[0].domain, 9u);
}

TEST(IpfixSink, CollectorAddresses)
{
    EXPECT_EQ(parse_collector("collector.example:2055"), (Collector{"collector.example", 2055}));
    EXPECT_EQ(parse_collector("192.0.2.1"), (Collector{"192.0.2.1", 4739}));
    EXPECT_EQ(parse_collector("[2001:db8::1]:9995"), (Collector{"2001:db8::1", 9995}));
    EXPECT_EQ(parse_collector("[2001:db8::1]"), (Collector{"2001:db8::1", 4739}));
    EXPECT_EQ(parse_collector("2001:db8::1"), (Collector{"2001:db8::1", 4739}));
    for (const char* bad : {"host:0", "host:65536", "host:http", "host:", ":4739", "[::1", "[::1]x", "[]:4739"}) {
        try {
            parse_collector(bad);
            ADD_FAILURE() << bad << ": no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.exit_code(), exit_code::usage) << bad;
        }
    }
}

TEST(IpfixSink, UnresolvableHostIsAUsageError)
{
    try {
        UdpSink sink("no-such-host.invalid:4739");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::usage);
        EXPECT_NE(std::string(e.what()).find("no-such-host.invalid"), std::string::npos) << e.what();
    }
}

std::uint16_t free_udp_port()
{
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

bool udp_port_bound(std::uint16_t port)
{
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool in_use = bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
    close(s);
    return in_use;
}

TEST(IpfixSink, RefusedPortCountsRecordsNotSent)
{
    UdpSink sink("127.0.0.1:" + std::to_string(free_udp_port()));
    Encoder encoder(1, kDefaultMtu, 0);
    std::size_t records = 0;
    for (int i = 0; i < 3; ++i) {
        const auto messages = encoder.encode(sample_records(), {}, 1000);
        ASSERT_EQ(messages.size(), 1u);
        sink.send(messages[0], sample_records().size());
        records += sample_records().size();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the ICMP error comes back
    }
    // The first datagram draws the ICMP port unreachable; a later send reports it.
    EXPECT_GT(sink.records_not_sent(), 0u);
    EXPECT_LT(sink.records_not_sent(), records);
    EXPECT_EQ(sink.last_error(), ECONNREFUSED);
}

TEST(IpfixSink, FileRejectsStandardOutputAndUnwritablePaths)
{
    EXPECT_THROW(FileSink("-"), Error);
    EXPECT_THROW(FileSink("/nonexistent-dir/x.ipfix"), Error);
}

// A command's exit status and its stdout and stderr together.
std::pair<int, std::string> run(const std::string& command)
{
    FILE* p = popen((command + " 2>&1").c_str(), "r");
    if (!p)
        return {-1, "popen failed"};
    std::string output;
    char buf[4096];
    for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;)
        output.append(buf, n);
    const int status = pclose(p);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// A tool of the IPFIX tests is missing: skipped, loudly; under CI=true, a failure.
bool have_tool(const char* tool, const char* package)
{
    if (std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0)
        return true;
    if (test::running_in_ci())
        ADD_FAILURE() << tool << " is not installed (Debian package " << package
                      << ", scripts/install-deps.sh); CI=true: this check may not be skipped";
    else
        std::fprintf(stderr, "SKIPPED: %s is not installed (Debian package %s, scripts/install-deps.sh)\n", tool,
                     package);
    return false;
}

struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        char templ[] = "/tmp/trafstat-ipfix-XXXXXX";
        path = mkdtemp(templ);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// libfixbuf's ipfixDump reads an RFC 5655 file of every template and the
// options records without a complaint, and prints the values put in.
TEST(IpfixDecoders, IpfixDumpReadsTheFile)
{
    if (!have_tool("ipfixDump", "libfixbuf-tools"))
        GTEST_SKIP() << "SKIPPED: ipfixDump is not installed";
    TempDir dir;
    const auto file = (dir.path / "export.ipfix").string();
    {
        FileSink sink(file);
        Encoder encoder(42, kDefaultMtu, 0);
        for (const auto& m : encoder.encode(sample_records(), sample_totals(), 1764496040))
            sink.send(m, decode(m)[0].records.size());
        encoder.resend_templates();
        for (const auto& m : encoder.encode(many_records(200), sample_totals(), 1764496041))
            sink.send(m, 0);
        EXPECT_EQ(sink.records_not_sent(), 0u);
    }
    const auto [status, output] = run("ipfixDump --in " + file);
    EXPECT_EQ(status, 0) << output;
    std::string lower = output;
    for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(lower.find("error"), std::string::npos) << output;
    EXPECT_EQ(lower.find("warn"), std::string::npos) << output;
    for (const char* expected :
         {"flowStartMilliseconds", "sourceIPv4Address", "192.0.2.1", "2001:0db8::0003", "icmpTypeCodeIPv6",
          "egressInterface", "flowEndReason", "ignoredPacketTotalCount", "exportedFlowRecordTotalCount",
          "notSentFlowTotalCount", "observationDomainId", "tcpControlBits", "3456", "4350"})
        EXPECT_NE(output.find(expected), std::string::npos) << "no " << expected << " in:\n" << output;
}

// nfcapd (nfdump 1.7) collects a UDP export; nfdump lists every record with
// its exact addresses, ports, protocol, packets, bytes and times to the ms.
TEST(IpfixDecoders, NfcapdCollectsTheRecords)
{
    if (!have_tool("nfcapd", "nfdump") || !have_tool("nfdump", "nfdump"))
        GTEST_SKIP() << "SKIPPED: nfdump is not installed";
    TempDir dir;
    const std::uint16_t port = free_udp_port();
    const std::string port_text = std::to_string(port), dir_text = dir.path.string();
    const char* argv[] = {"nfcapd",    "-w", dir_text.c_str(), "-p",   port_text.c_str(), "-b",
                          "127.0.0.1", "-t", "3600",           nullptr};
    const auto log = (dir.path / "collector.log").string();
    posix_spawn_file_actions_t output;
    posix_spawn_file_actions_init(&output);
    posix_spawn_file_actions_addopen(&output, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&output, 1, 2);
    pid_t pid = 0;
    const int spawned = posix_spawnp(&pid, "nfcapd", &output, nullptr, const_cast<char* const*>(argv), environ);
    posix_spawn_file_actions_destroy(&output);
    ASSERT_EQ(spawned, 0);
    for (int i = 0; i < 100 && !udp_port_bound(port); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_TRUE(udp_port_bound(port)) << "nfcapd did not bind 127.0.0.1:" << port;
    {
        UdpSink sink("127.0.0.1:" + port_text);
        Encoder encoder(7, kDefaultMtu, 0);
        for (const auto& m : encoder.encode(sample_records(), sample_totals(), 1764496040))
            sink.send(m, decode(m)[0].records.size());
        EXPECT_EQ(sink.records_not_sent(), 0u);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);  // it writes its file on the way out
    int status = 0;
    waitpid(pid, &status, 0);
    std::string file;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path))
        if (e.is_regular_file() && e.path().filename().string().starts_with("nfcapd."))
            file = e.path().string();
    std::ostringstream said;
    said << std::ifstream(log).rdbuf();
    ASSERT_FALSE(file.empty()) << "nfcapd wrote no file in " << dir_text << "; it said:\n" << said.str();
    EXPECT_NE(said.str().find("Sequence Errors: 0, Bad Packets: 0"), std::string::npos) << said.str();
    const auto [rc, csv] = run("TZ=UTC nfdump -q -r " + file + " -o 'fmt:%ts,%te,%pr,%sa,%da,%sp,%dp,%pkt,%byt'");
    ASSERT_EQ(rc, 0) << csv;
    std::map<std::string, int> lines;
    std::istringstream in(csv);
    for (std::string line; std::getline(in, line);) {
        line.erase(std::remove(line.begin(), line.end(), ' '), line.end());
        if (!line.empty())
            ++lines[line];
    }
    // nfdump prints ICMP type.code in the destination port column, and a protocol by name.
    const std::vector<std::string> expected = {
        "2025-11-3009:47:16.123,2025-11-3009:47:17.623,TCP,192.0.2.1,198.51.100.7,40000,443,12,3456",
        "2025-11-3009:47:16.130,2025-11-3009:47:16.131,UDP,2001:db8::1,2001:db8::2,5353,53,2,180",
        "2025-11-3009:47:16.133,2025-11-3009:47:18.133,ICMP,192.0.2.1,198.51.100.9,0,8.0,3,294",
        "2025-11-3009:47:16.143,2025-11-3009:47:16.144,ICMP6,2001:db8::1,2001:db8::3,0,128.0,1,118",
        "2025-11-3009:47:16.153,2025-11-3009:47:16.153,UDP,198.51.100.7,192.0.2.1,123,123,1,90",
    };
    for (const auto& e : expected)
        EXPECT_EQ(lines[e], 1) << "missing: " << e << "\nnfdump printed:\n" << csv;
    EXPECT_EQ(lines.size(), expected.size()) << csv;
}

}  // namespace
}  // namespace trafstat::ipfix
