// The capture reading layer against bad and odd input: every capture is built
// byte by byte here, so each case (and each byte offset) is exact. Then
// to_ethernet for every link type replay accepts.
#include "base/error.hpp"
#include "base/exit_codes.hpp"
#include "base/signals.hpp"
#include "replay/capture.hpp"
#include "replay/linktype.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <zlib.h>
#include <zstd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace trafstat {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

constexpr const char* k_pcapfix_damaged = "/usr/share/doc/pcapfix/examples/test_damaged.pcap";
constexpr std::uint32_t k_max_caplen = 262144;  // libpcap's limit for a record (256 KiB)

// --- building captures ---------------------------------------------------------

void put16(Bytes& out, std::uint16_t v)
{
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void put32(Bytes& out, std::uint32_t v)
{
    for (int shift = 0; shift < 32; shift += 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

void put32_be(Bytes& out, std::uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<std::uint8_t>(v >> shift));
    }
}

// A frame of `size` bytes whose content encodes `seed`, to tell records apart.
Bytes frame(std::size_t size, std::uint8_t seed)
{
    Bytes f(size);
    for (std::size_t i = 0; i < size; ++i) {
        f[i] = static_cast<std::uint8_t>(seed + i);
    }
    return f;
}

// A pcap file, little-endian (or big-endian), microsecond or nanosecond.
class Pcap {
public:
    explicit Pcap(std::uint32_t linktype, std::uint32_t snaplen = 65535, bool nano = false, bool big_endian = false)
        : big_(big_endian)
    {
        put(nano ? 0xA1B23C4D : 0xA1B2C3D4);
        put16x(2);
        put16x(4);
        put(0);  // thiszone
        put(0);  // sigfigs
        put(snaplen);
        put(linktype);
    }
    // A record header that may lie about its length; no data.
    Pcap& header(std::uint32_t ts_sec, std::uint32_t ts_frac, std::uint32_t caplen, std::uint32_t orig_len)
    {
        put(ts_sec);
        put(ts_frac);
        put(caplen);
        put(orig_len);
        return *this;
    }
    Pcap& record(const Bytes& data, std::uint32_t orig_len = 0, std::uint32_t ts_sec = 1700000000,
                 std::uint32_t ts_frac = 0)
    {
        header(ts_sec, ts_frac, static_cast<std::uint32_t>(data.size()),
               orig_len ? orig_len : static_cast<std::uint32_t>(data.size()));
        return raw(data);
    }
    Pcap& raw(const Bytes& data)
    {
        bytes.insert(bytes.end(), data.begin(), data.end());
        return *this;
    }
    std::size_t size() const { return bytes.size(); }

    Bytes bytes;

private:
    void put(std::uint32_t v) { big_ ? put32_be(bytes, v) : put32(bytes, v); }
    void put16x(std::uint16_t v)
    {
        if (big_) {
            bytes.push_back(static_cast<std::uint8_t>(v >> 8));
            bytes.push_back(static_cast<std::uint8_t>(v));
        } else {
            put16(bytes, v);
        }
    }
    bool big_;
};

// A little-endian pcapng file: section header, interfaces, enhanced packet blocks.
class Pcapng {
public:
    Pcapng()
    {
        Bytes body;
        put32(body, 0x1A2B3C4D);  // byte-order magic
        put16(body, 1);
        put16(body, 0);
        put32(body, 0xFFFFFFFF);  // section length: unknown
        put32(body, 0xFFFFFFFF);
        block(0x0A0D0D0A, body);
    }
    // `tsresol`: if_tsresol option (10^-tsresol s); none means microseconds.
    Pcapng& interface(std::uint16_t linktype, std::optional<std::uint8_t> tsresol = std::nullopt)
    {
        Bytes body;
        put16(body, linktype);
        put16(body, 0);
        put32(body, 65535);
        if (tsresol) {
            put16(body, 9);  // if_tsresol
            put16(body, 1);
            body.push_back(*tsresol);
            body.insert(body.end(), 3, 0);
            put32(body, 0);  // opt_endofopt
        }
        block(0x00000001, body);
        return *this;
    }
    Pcapng& packet(std::uint32_t interface, std::uint64_t ts, const Bytes& data)
    {
        Bytes body;
        put32(body, interface);
        put32(body, static_cast<std::uint32_t>(ts >> 32));
        put32(body, static_cast<std::uint32_t>(ts));
        put32(body, static_cast<std::uint32_t>(data.size()));
        put32(body, static_cast<std::uint32_t>(data.size()));
        body.insert(body.end(), data.begin(), data.end());
        block(0x00000006, body);
        return *this;
    }

    Bytes bytes;

private:
    void block(std::uint32_t type, Bytes body)
    {
        body.resize((body.size() + 3) / 4 * 4, 0);
        const auto length = static_cast<std::uint32_t>(body.size() + 12);
        put32(bytes, type);
        put32(bytes, length);
        bytes.insert(bytes.end(), body.begin(), body.end());
        put32(bytes, length);
    }
};

// --- reading them ----------------------------------------------------------------

class TempDir {
public:
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "trafstat-capture-XXXXXX").string();
        if (!mkdtemp(pattern.data())) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir()
    {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    std::string write(const std::string& name, const Bytes& bytes) const
    {
        const std::string path = (path_ / name).string();
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        return path;
    }
    std::string path(const std::string& name) const { return (path_ / name).string(); }
    std::string write(const std::string& name, const std::string& text) const
    {
        return write(name, Bytes(text.begin(), text.end()));
    }

private:
    fs::path path_;
};

struct Record {
    Bytes data;
    std::uint32_t orig_len;
    std::int64_t ts_ns;
};

// What a reader yields: the records up to the end or the damage, and the error.
struct Outcome {
    std::vector<Record> records;
    std::optional<Error> error;
};

Outcome read_all(CaptureReader& reader)
{
    Outcome out;
    CaptureRecord r;
    try {
        while (reader.next(r)) {
            out.records.push_back({Bytes(r.data.begin(), r.data.end()), r.orig_len, r.ts_ns});
            EXPECT_EQ(reader.records(), out.records.size());
        }
    } catch (const Error& e) {
        out.error = e;
    }
    return out;
}

// `bytes` behind a descriptor (a memfd), read from its start.
int memory_fd(const Bytes& bytes)
{
    const int fd = memfd_create("capture", MFD_CLOEXEC);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
        lseek(fd, 0, SEEK_SET) != 0) {
        throw std::runtime_error("memfd");
    }
    return fd;
}

Outcome read_file(const std::string& path)
{
    auto reader = CaptureReader::open(path);
    return read_all(reader);
}

// Damage found before libpcap has its header fails the open: the same outcome.
Outcome read_or_open_error(const std::string& path)
{
    try {
        return read_file(path);
    } catch (const Error& e) {
        return Outcome{{}, e};
    }
}

// The error of opening `path`, which must fail.
Error open_error(const std::string& path)
{
    try {
        CaptureReader::open(path);
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "opening " << path << " did not fail";
    return Error(0, "");
}

bool contains(const std::string& haystack, const std::string& needle)
{
    return haystack.find(needle) != std::string::npos;
}

// --- files that are not captures ------------------------------------------------

TEST(CaptureOpen, MissingFile)
{
    const Error e = open_error("/nonexistent/trafstat/missing.pcap");
    EXPECT_EQ(e.exit_code(), exit_code::capture);
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/trafstat/missing.pcap: cannot open: No such file or directory (ENOENT)");
}

TEST(CaptureOpen, EmptyFile)
{
    TempDir dir;
    const std::string path = dir.write("empty.pcap", Bytes{});
    const Error e = open_error(path);
    EXPECT_EQ(e.exit_code(), exit_code::capture);
    EXPECT_TRUE(std::string(e.what()).starts_with(path + ": ")) << e.what();
    EXPECT_TRUE(contains(e.what(), "byte offset 0")) << e.what();
}

TEST(CaptureOpen, TextFile)
{
    TempDir dir;
    const std::string path = dir.write("notes.txt", std::string("this is not a capture\nat all\n"));
    const Error e = open_error(path);
    EXPECT_EQ(e.exit_code(), exit_code::capture);
    EXPECT_TRUE(std::string(e.what()).starts_with(path + ": not a readable capture (byte offset 0): ")) << e.what();
    EXPECT_TRUE(contains(e.what(), "unknown file format")) << e.what();
}

TEST(CaptureOpen, GlobalHeaderCutShort)
{
    TempDir dir;
    Bytes header = Pcap(DLT_EN10MB).bytes;
    header.resize(20);
    const Error e = open_error(dir.write("short.pcap", header));
    EXPECT_EQ(e.exit_code(), exit_code::capture);
    EXPECT_TRUE(contains(e.what(), "byte offset 0")) << e.what();
}

TEST(CaptureOpen, ErrorMessageIsOneLine)
{
    TempDir dir;
    for (const std::string& path :
         {dir.write("empty", Bytes{}), dir.write("text", std::string("GET / HTTP/1.1\r\n"))}) {
        const Error e = open_error(path);
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
    }
}

// --- valid captures --------------------------------------------------------------

TEST(CaptureRead, HeaderOnlyIsCleanEof)
{
    TempDir dir;
    auto reader = CaptureReader::open(dir.write("header.pcap", Pcap(DLT_EN10MB).bytes));
    EXPECT_EQ(reader.linktype(), DLT_EN10MB);
    CaptureRecord r;
    EXPECT_FALSE(reader.next(r));
    EXPECT_FALSE(reader.next(r)) << "end of file stays the end";
    EXPECT_EQ(reader.records(), 0u);
}

TEST(CaptureRead, RecordsExactly)
{
    TempDir dir;
    const Pcap pcap =
        Pcap(DLT_EN10MB).record(frame(60, 1), 60, 1700000000, 1).record(frame(42, 2), 1514, 1700000001, 999999);
    const Outcome out = read_file(dir.write("two.pcap", pcap.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].data, frame(60, 1));
    EXPECT_EQ(out.records[0].orig_len, 60u);
    EXPECT_EQ(out.records[0].ts_ns, 1700000000'000001000);
    EXPECT_EQ(out.records[1].data, frame(42, 2));
    EXPECT_EQ(out.records[1].orig_len, 1514u);
    EXPECT_EQ(out.records[1].ts_ns, 1700000001'999999000);
}

TEST(CaptureRead, BigEndianPcap)
{
    TempDir dir;
    const Pcap pcap = Pcap(DLT_EN10MB, 65535, false, true).record(frame(60, 7), 70, 1700000000, 5);
    auto reader = CaptureReader::open(dir.write("be.pcap", pcap.bytes));
    EXPECT_EQ(reader.linktype(), DLT_EN10MB);
    const Outcome out = read_all(reader);
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].data, frame(60, 7));
    EXPECT_EQ(out.records[0].orig_len, 70u);
    EXPECT_EQ(out.records[0].ts_ns, 1700000000'000005000);
}

TEST(CaptureRead, NanosecondPcapIsExact)
{
    TempDir dir;
    const Pcap pcap = Pcap(DLT_EN10MB, 65535, true)
                          .record(frame(60, 1), 60, 1700000000, 123456789)
                          .record(frame(60, 2), 60, 1700000000, 999999999);
    const Outcome out = read_file(dir.write("nano.pcap", pcap.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].ts_ns, 1700000000'123456789);
    EXPECT_EQ(out.records[1].ts_ns, 1700000000'999999999);
}

TEST(CaptureRead, LinkTypesAsDlt)
{
    // The file holds LINKTYPE_* values; linktype() is libpcap's DLT_* (RAW: 101 -> 12).
    TempDir dir;
    const std::pair<std::uint32_t, int> cases[] = {
        {1, DLT_EN10MB},      {101, DLT_RAW},        {228, DLT_IPV4}, {229, DLT_IPV6},
        {113, DLT_LINUX_SLL}, {276, DLT_LINUX_SLL2}, {147, 147},      {105, DLT_IEEE802_11},
    };
    for (const auto& [file_value, dlt] : cases) {
        auto reader = CaptureReader::open(dir.write("lt.pcap", Pcap(file_value).record(frame(20, 0)).bytes));
        EXPECT_EQ(reader.linktype(), dlt) << "LINKTYPE " << file_value;
    }
}

// A stop signal that came before the open of a FIFO without a writer ends the
// wait at once (a blocking open() would wait for a writer for ever). In a child:
// the stop flag cannot be cleared, and alarm() turns a hang into a failure.
TEST(CaptureOpen, FifoWithoutWriterAfterAStopSignal)
{
    TempDir dir;
    const std::string fifo = dir.path("fifo");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    EXPECT_EXIT(
        {
            alarm(5);
            install_stop_handlers();
            std::raise(SIGTERM);
            try {
                CaptureReader::open(fifo);
            } catch (const Error& e) {
                std::fprintf(stderr, "%s\n", e.what());
                std::_Exit(e.exit_code() == exit_code::interrupted ? 0 : 1);
            }
            std::_Exit(2);
        },
        ::testing::ExitedWithCode(0), "fifo: interrupted while waiting for a writer");
}

TEST(CaptureOpen, FifoWaitsForItsWriter)
{
    TempDir dir;
    const std::string fifo = dir.path("fifo");
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    const Bytes capture = Pcap(DLT_EN10MB).record(frame(60, 1)).bytes;
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        std::ofstream(fifo, std::ios::binary)
            .write(reinterpret_cast<const char*>(capture.data()), static_cast<std::streamsize>(capture.size()));
    });
    auto reader = CaptureReader::open(fifo);
    const Outcome out = read_all(reader);
    writer.join();
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].data, frame(60, 1));
}

TEST(CaptureRead, LinkTypeFieldAsWritten)
{
    TempDir dir;
    for (const std::uint32_t field : {0x7fffffffU, 0x44000001U, 0x00000001U, 0x0000ffffU}) {
        auto reader = CaptureReader::open(dir.write("lt.pcap", Pcap(field).record(frame(20, 0)).bytes));
        EXPECT_EQ(reader.linktype_field(), field) << std::hex << field;
    }
}

TEST(CaptureRead, FcsIsNotPartOfTheFrame)
{
    // Ethernet with a 4-byte FCS: each record ends with it; a cut record may lack it.
    TempDir dir;
    Bytes with_fcs = frame(60, 1);
    with_fcs.insert(with_fcs.end(), {0xde, 0xad, 0xbe, 0xef});
    auto reader = CaptureReader::open(
        dir.write("fcs.pcap", Pcap(0x44000001).record(with_fcs).record(frame(30, 2), 64 + 4).bytes));
    const Outcome out = read_all(reader);
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].data, frame(60, 1));
    EXPECT_EQ(out.records[0].orig_len, 60u);
    EXPECT_EQ(out.records[1].data, frame(30, 2));
    EXPECT_EQ(out.records[1].orig_len, 64u);
}

TEST(CaptureRead, PcapngTwoInterfacesOfTheSameLinkType)
{
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB, 9).interface(DLT_EN10MB, 9);
    ng.packet(0, 1700000000'000000001, frame(60, 1))
        .packet(1, 1700000000'000000002, frame(61, 2))
        .packet(0, 1700000000'000000003, frame(62, 3));
    auto reader = CaptureReader::open(dir.write("two.pcapng", ng.bytes));
    EXPECT_EQ(reader.linktype(), DLT_EN10MB);
    const Outcome out = read_all(reader);
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(out.records[i].data, frame(60 + i, static_cast<std::uint8_t>(i + 1)));
        EXPECT_EQ(out.records[i].ts_ns, static_cast<std::int64_t>(1700000000'000000001 + i));
    }
}

TEST(CaptureRead, PcapngMicrosecondDefaultResolution)
{
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB).packet(0, 1700000000'123456, frame(60, 1));
    const Outcome out = read_file(dir.write("usec.pcapng", ng.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].ts_ns, 1700000000'123456000);
}

TEST(CaptureRead, PcapngTimestampBeyondInt64NanosecondsSaturates)
{
    // Found by fuzzing: if_tsresol = 10^0 (seconds) and a timestamp of 2^62 s
    // overflowed the conversion to nanoseconds (undefined behaviour).
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB, 0).packet(0, std::uint64_t{1} << 62, frame(60, 1));
    const Outcome out = read_file(dir.write("far.pcapng", ng.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].ts_ns, std::numeric_limits<std::int64_t>::max());
}

TEST(CaptureRead, PcapngInterfacesOfDifferentLinkTypes)
{
    // libpcap cannot give one link type for the file: an error when it meets
    // the second interface, after the records before it.
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB).packet(0, 1, frame(60, 1));
    ng.interface(101).packet(1, 2, frame(40, 2));  // LINKTYPE_RAW
    const Outcome out = read_file(dir.write("mixed.pcapng", ng.bytes));
    ASSERT_TRUE(out.error);
    EXPECT_EQ(out.error->exit_code(), exit_code::capture);
    EXPECT_EQ(out.records.size(), 1u);
    EXPECT_TRUE(contains(out.error->what(), "packet 2")) << out.error->what();
}

TEST(CaptureRead, CaplenAboveSnaplenIsCutToSnaplen)
{
    // libpcap keeps snaplen bytes of a record longer than the file's snaplen
    // (up to its own 256 KiB limit) and skips the rest: the next record is intact.
    TempDir dir;
    const Pcap pcap = Pcap(DLT_EN10MB, 64).record(frame(100, 1), 100).record(frame(60, 2), 60);
    const Outcome out = read_file(dir.write("snap.pcap", pcap.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[0].data, frame(64, 1));
    EXPECT_EQ(out.records[0].orig_len, 100u);
    EXPECT_EQ(out.records[1].data, frame(60, 2));
}

TEST(CaptureRead, OrigLenBelowCaplenIsReturnedAsIs)
{
    TempDir dir;
    const Pcap pcap = Pcap(DLT_EN10MB).header(1700000000, 0, 60, 10).raw(frame(60, 1));
    const Outcome out = read_file(dir.write("lying.pcap", pcap.bytes));
    ASSERT_FALSE(out.error) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].data.size(), 60u);
    EXPECT_EQ(out.records[0].orig_len, 10u);
}

// --- damaged captures: the records before the damage, then one error -------------

// Checks the error after `good` records: exit code 7, one line, naming the
// capture, the packet and the byte offset.
void expect_damage(const Outcome& out, const std::string& name, std::size_t good, std::size_t offset)
{
    ASSERT_TRUE(out.error) << "no error after " << out.records.size() << " records";
    EXPECT_EQ(out.records.size(), good);
    EXPECT_EQ(out.error->exit_code(), exit_code::capture);
    const std::string message = out.error->what();
    EXPECT_TRUE(message.starts_with(name + ": damaged at packet " + std::to_string(good + 1))) << message;
    EXPECT_TRUE(contains(message, "(byte offset " + std::to_string(offset) + ")")) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(CaptureDamaged, TruncatedRecordHeader)
{
    TempDir dir;
    Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1)).record(frame(60, 2));
    pcap.raw(Bytes(10, 0xEE));  // 10 of 16 header bytes
    const std::string path = dir.write("cut-header.pcap", pcap.bytes);
    const Outcome out = read_file(path);
    // The damage is found where the file ends.
    expect_damage(out, path, 2, pcap.size());
    EXPECT_TRUE(contains(out.error->what(), "truncated")) << out.error->what();
    ASSERT_EQ(out.records.size(), 2u);
    EXPECT_EQ(out.records[1].data, frame(60, 2));
}

TEST(CaptureDamaged, TruncatedRecordData)
{
    TempDir dir;
    Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1)).record(frame(60, 2)).record(frame(60, 3));
    pcap.bytes.resize(pcap.size() - 25);  // the third record has 35 of its 60 bytes
    const std::string path = dir.write("cut-data.pcap", pcap.bytes);
    const Outcome out = read_file(path);
    expect_damage(out, path, 2, pcap.size());
    EXPECT_TRUE(contains(out.error->what(), "truncated")) << out.error->what();
}

TEST(CaptureDamaged, CaplenLargerThanTheRestOfTheFile)
{
    TempDir dir;
    const Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1)).header(1700000000, 0, 1000, 1000).raw(frame(30, 2));
    const std::string path = dir.write("caplen-beyond.pcap", pcap.bytes);
    expect_damage(read_file(path), path, 1, pcap.size());
}

TEST(CaptureDamaged, AbsurdCaplen)
{
    // Above libpcap's 256 KiB limit: refused before reading (or allocating) the data.
    TempDir dir;
    for (const std::uint32_t caplen : {k_max_caplen + 1, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
        const Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1)).header(1700000000, 0, caplen, caplen).raw(frame(60, 2));
        const std::string path = dir.write("absurd.pcap", pcap.bytes);
        const Outcome out = read_file(path);
        expect_damage(out, path, 1, 24 + 16 + 60 + 16);  // just past the lying header
        EXPECT_TRUE(contains(out.error->what(), std::to_string(caplen))) << out.error->what();
    }
}

TEST(CaptureDamaged, PcapngBlockCutShort)
{
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB).packet(0, 1, frame(60, 1)).packet(0, 2, frame(60, 2));
    ng.bytes.resize(ng.bytes.size() - 30);
    const std::string path = dir.write("cut.pcapng", ng.bytes);
    expect_damage(read_file(path), path, 1, ng.bytes.size());
}

TEST(CaptureDamaged, PcapfixDamagedExample)
{
    if (!fs::exists(k_pcapfix_damaged)) {
        GTEST_SKIP() << k_pcapfix_damaged << " not installed (pcapfix)";
    }
    // Packet 1 is intact; a stray byte shifts packet 2's header, whose caplen
    // (16896) then runs past the end of the file.
    const Outcome out = read_file(k_pcapfix_damaged);
    expect_damage(out, k_pcapfix_damaged, 1, fs::file_size(k_pcapfix_damaged));
    EXPECT_TRUE(contains(out.error->what(), "truncated")) << out.error->what();
    ASSERT_EQ(out.records.size(), 1u);
    EXPECT_EQ(out.records[0].data.size(), 74u);
}

TEST(CaptureDamaged, FromADescriptorAtItsOffset)
{
    Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1));
    pcap.raw(Bytes(5, 0));
    auto reader = CaptureReader::open_fd(memory_fd(pcap.bytes), "memory");
    expect_damage(read_all(reader), "memory", 1, pcap.size());
}

// A pipe cannot seek, but the reader counts what it read.
TEST(CaptureDamaged, FromAPipeAtItsOffset)
{
    Pcap pcap = Pcap(DLT_EN10MB).record(frame(60, 1)).record(frame(60, 2));
    pcap.bytes.resize(pcap.size() - 1);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::jthread writer([&] {
        std::size_t done = 0;
        while (done < pcap.size()) {
            const ssize_t n = ::write(fds[1], pcap.bytes.data() + done, pcap.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        close(fds[1]);
    });
    auto reader = CaptureReader::open_fd(fds[0], "-");
    expect_damage(read_all(reader), "-", 1, pcap.size());
}

TEST(CaptureRead, DashReadsStandardInput)
{
    TempDir dir;
    const std::string path = dir.write("stdin.pcap", Pcap(DLT_EN10MB).record(frame(60, 1)).record(frame(61, 2)).bytes);
    std::FILE* file = std::fopen(path.c_str(), "rb");
    ASSERT_NE(file, nullptr);
    const int saved = dup(STDIN_FILENO);
    ASSERT_GE(saved, 0);
    ASSERT_EQ(dup2(fileno(file), STDIN_FILENO), STDIN_FILENO);
    std::optional<Outcome> out;
    std::string name;
    {
        auto reader = CaptureReader::open("-");
        name = reader.name();
        out = read_all(reader);
    }
    dup2(saved, STDIN_FILENO);
    close(saved);
    std::fclose(file);
    EXPECT_EQ(name, "-");
    ASSERT_FALSE(out->error) << out->error->what();
    ASSERT_EQ(out->records.size(), 2u);
    EXPECT_EQ(out->records[1].data, frame(61, 2));
}

// --- compressed captures: told by content, read as the plain capture -----------

Bytes concat(Bytes a, const Bytes& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes gzip(const Bytes& plain)
{
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    Bytes out(deflateBound(&z, static_cast<uLong>(plain.size())) + 32);
    z.next_in = const_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

// With a checksum, as the zstd tool writes.
Bytes zstd(const Bytes& plain)
{
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    Bytes out(ZSTD_compressBound(plain.size()));
    const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), plain.data(), plain.size());
    ZSTD_freeCCtx(cctx);
    EXPECT_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

Bytes cut(Bytes bytes, std::size_t size)
{
    bytes.resize(size);
    return bytes;
}

// Ten records of different sizes (one compressed block or several).
Pcap ten_records()
{
    Pcap pcap(DLT_EN10MB);
    for (std::uint8_t i = 0; i < 10; ++i) {
        pcap.record(frame(60 + 100u * i, i));
    }
    return pcap;
}

void expect_same_records(const Outcome& got, const Outcome& want)
{
    ASSERT_FALSE(got.error) << got.error->what();
    ASSERT_EQ(got.records.size(), want.records.size());
    for (std::size_t i = 0; i < want.records.size(); ++i) {
        EXPECT_EQ(got.records[i].data, want.records[i].data) << i;
        EXPECT_EQ(got.records[i].ts_ns, want.records[i].ts_ns) << i;
    }
}

struct Compressor {
    const char* name;
    Compression compression;
    Bytes (*compress)(const Bytes&);
};
const Compressor k_compressors[] = {{"gzip", Compression::gzip, gzip}, {"zstd", Compression::zstd, zstd}};

TEST(CaptureCompressed, ReadAsThePlainCaptureWhateverTheName)
{
    TempDir dir;
    const Pcap pcap = ten_records();
    const Outcome plain = read_file(dir.write("plain.pcap", pcap.bytes));
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        auto reader = CaptureReader::open(dir.write("named-plain.pcap", c.compress(pcap.bytes)));
        expect_same_records(read_all(reader), plain);
        EXPECT_EQ(reader.compression(), c.compression);
    }
    auto reader = CaptureReader::open(dir.path("plain.pcap"));
    read_all(reader);
    EXPECT_EQ(reader.compression(), Compression::none);
}

TEST(CaptureCompressed, Pcapng)
{
    TempDir dir;
    Pcapng ng;
    ng.interface(DLT_EN10MB).packet(0, 1, frame(60, 1)).packet(0, 2, frame(70, 2));
    const Outcome plain = read_file(dir.write("plain.pcapng", ng.bytes));
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        expect_same_records(read_file(dir.write("x.pcapng.z", c.compress(ng.bytes))), plain);
    }
}

// gzip a b > c, pigz, zstd a b: members and frames one after the other.
TEST(CaptureCompressed, SeveralMembersAndFrames)
{
    TempDir dir;
    const Pcap pcap = ten_records();
    const Outcome plain = read_file(dir.write("plain.pcap", pcap.bytes));
    const Bytes head(pcap.bytes.begin(), pcap.bytes.begin() + 777);
    const Bytes tail(pcap.bytes.begin() + 777, pcap.bytes.end());
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        expect_same_records(read_file(dir.write("parts", concat(c.compress(head), c.compress(tail)))), plain);
    }
}

TEST(CaptureCompressed, FromAPipe)
{
    const Pcap pcap = ten_records();
    TempDir dir;
    const Outcome plain = read_file(dir.write("plain.pcap", pcap.bytes));
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        const Bytes data = c.compress(pcap.bytes);
        int fds[2];
        ASSERT_EQ(pipe(fds), 0);
        std::jthread writer([&] {
            // A byte at a time: the magic arrives in pieces.
            for (std::uint8_t b : data) {
                if (::write(fds[1], &b, 1) != 1) {
                    break;
                }
            }
            close(fds[1]);
        });
        auto reader = CaptureReader::open_fd(fds[0], "-");
        expect_same_records(read_all(reader), plain);
    }
}

// The error of a damaged stream after `good` records: one line naming the file,
// the compression, the compressed byte and the packet.
void expect_stream_damage(const Outcome& out, const std::string& name, const Compressor& c, std::size_t good,
                          std::optional<std::size_t> compressed_byte = std::nullopt)
{
    ASSERT_TRUE(out.error) << "no error after " << out.records.size() << " records";
    EXPECT_EQ(out.records.size(), good);
    EXPECT_EQ(out.error->exit_code(), exit_code::capture);
    const std::string message = out.error->what();
    EXPECT_TRUE(message.starts_with(name + ": damaged " + c.name + " stream at compressed byte ")) << message;
    if (compressed_byte) {
        EXPECT_TRUE(contains(message, fmt::format("at compressed byte {}: ", *compressed_byte))) << message;
    }
    EXPECT_TRUE(contains(message, fmt::format("(packet {})", good + 1))) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(CaptureCompressed, TruncatedStreamAfterTheRecordsItHolds)
{
    TempDir dir;
    // Incompressible frames: the compressed stream holds them in order.
    Pcap pcap(DLT_EN10MB);
    std::uint32_t state = 1;
    for (int i = 0; i < 40; ++i) {
        Bytes f(1000);
        for (auto& b : f) {
            state = state * 1103515245 + 12345;
            b = static_cast<std::uint8_t>(state >> 24);
        }
        pcap.record(f);
    }
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        const Bytes whole = c.compress(pcap.bytes);
        const std::string path = dir.write("cut.pcap.z", cut(whole, whole.size() / 2));
        const Outcome out = read_or_open_error(path);
        ASSERT_TRUE(out.error);
        EXPECT_LT(out.records.size(), 30u);
        if (c.compression == Compression::gzip) {
            EXPECT_GT(out.records.size(), 10u);  // zstd gives nothing of a cut block
        }
        expect_stream_damage(out, path, c, out.records.size(), whole.size() / 2);
        EXPECT_TRUE(contains(out.error->what(), "truncated")) << out.error->what();
    }
}

TEST(CaptureCompressed, CutJustBeforeTheEnd)
{
    TempDir dir;
    const Pcap pcap = ten_records();
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        const Bytes whole = c.compress(pcap.bytes);
        const std::string path = dir.write("cut.pcap.z", cut(whole, whole.size() - 1));
        const Outcome out = read_or_open_error(path);
        ASSERT_TRUE(out.error);
        EXPECT_TRUE(contains(out.error->what(), std::string("damaged ") + c.name + " stream")) << out.error->what();
    }
}

TEST(CaptureCompressed, BadChecksum)
{
    TempDir dir;
    Bytes data = gzip(ten_records().bytes);
    data[data.size() - 8] ^= 0xff;  // the CRC-32 of the trailer
    const std::string path = dir.write("crc.pcap.gz", data);
    const Outcome out = read_file(path);
    expect_stream_damage(out, path, k_compressors[0], 10);
    EXPECT_TRUE(contains(out.error->what(), "incorrect data check")) << out.error->what();
}

TEST(CaptureCompressed, CorruptBytes)
{
    TempDir dir;
    const Pcap pcap = ten_records();
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        Bytes data = c.compress(pcap.bytes);
        for (std::size_t i = 20; i < 40; ++i) {
            data[i] = 0xff;
        }
        const Outcome out = read_or_open_error(dir.write("corrupt.pcap.z", data));
        ASSERT_TRUE(out.error);
        EXPECT_EQ(out.error->exit_code(), exit_code::capture);
        // zstd finds it at the frame's checksum, after its blocks: libpcap may see the garbage first.
        const std::string message = out.error->what();
        EXPECT_TRUE(contains(message, std::string("damaged ") + c.name + " stream at compressed byte ") ||
                    contains(message, std::string(" of the decompressed ") + c.name + " data): "))
            << message;
    }
}

TEST(CaptureCompressed, GarbageAfterTheMagicIsRefusedAtOpen)
{
    TempDir dir;
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        Bytes data = cut(c.compress(Bytes{1, 2, 3}), c.compression == Compression::gzip ? 2 : 4);
        data.insert(data.end(), 200, 0xA5);
        const std::string path = dir.write("garbage.gz", data);
        const Error e = open_error(path);
        EXPECT_EQ(e.exit_code(), exit_code::capture);
        EXPECT_TRUE(std::string(e.what()).starts_with(path + ": damaged " + c.name + " stream at compressed byte "))
            << e.what();
    }
}

TEST(CaptureCompressed, NothingOrNoCaptureInside)
{
    TempDir dir;
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        for (const Bytes& inside : {Bytes{}, Bytes(300, 'x')}) {
            const std::string path = dir.write("inside.gz", c.compress(inside));
            const Error e = open_error(path);
            EXPECT_EQ(e.exit_code(), exit_code::capture);
            EXPECT_TRUE(contains(e.what(), std::string(": not a readable capture (byte offset 0 of the decompressed ") +
                                               c.name + " data): "))
                << e.what();
        }
    }
}

// A capture damaged inside a whole compressed stream: libpcap's message, at the
// offset in the decompressed data.
TEST(CaptureCompressed, DamagedCaptureInsideAWholeStream)
{
    TempDir dir;
    const Pcap pcap = ten_records();
    for (const Compressor& c : k_compressors) {
        SCOPED_TRACE(c.name);
        const std::size_t size = pcap.size() - 5;
        const Outcome out = read_file(dir.write("cut-inside.pcap.z", c.compress(cut(pcap.bytes, size))));
        ASSERT_TRUE(out.error);
        EXPECT_EQ(out.records.size(), 9u);
        EXPECT_TRUE(contains(out.error->what(), fmt::format("damaged at packet 10 (byte offset {} of the decompressed "
                                                            "{} data): truncated",
                                                            size, c.name)))
            << out.error->what();
    }
}

TEST(CaptureCompressed, ZstdWindowBeyondTheMemoryBound)
{
    // A frame header asking for a 128 MiB window (windowLog 27): refused, said so.
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 27);
    const Bytes plain = ten_records().bytes;
    Bytes data(ZSTD_compressBound(plain.size()));
    ZSTD_CCtx_setPledgedSrcSize(cctx, ZSTD_CONTENTSIZE_UNKNOWN);
    ZSTD_outBuffer out{data.data(), data.size(), 0};
    ZSTD_inBuffer in{plain.data(), plain.size(), 0};
    // Streamed (not one call with ZSTD_e_end): the window is not cut to the input's size.
    ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
    ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
    ZSTD_freeCCtx(cctx);
    data.resize(out.pos);
    TempDir dir;
    const std::string path = dir.write("long.pcap.zst", data);
    const Error e = open_error(path);
    EXPECT_TRUE(contains(e.what(), "needs a window over 16 MiB")) << e.what();
}

// --- link types -------------------------------------------------------------------

TEST(Linktype, Supported)
{
    for (const int dlt : {DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL, DLT_LINUX_SLL2}) {
        EXPECT_TRUE(linktype_supported(dlt)) << dlt;
    }
    for (const int dlt : {DLT_NULL, DLT_IEEE802_11, DLT_IEEE802_11_RADIO, 147, DLT_LOOP, -1, 100000}) {
        EXPECT_FALSE(linktype_supported(dlt)) << dlt;
    }
}

TEST(Linktype, Names)
{
    EXPECT_EQ(linktype_name(DLT_EN10MB), "EN10MB (DLT 1)");
    EXPECT_EQ(linktype_name(DLT_RAW), fmt::format("RAW (DLT {})", DLT_RAW));
    EXPECT_EQ(linktype_name(DLT_LINUX_SLL), "LINUX_SLL (DLT 113)");
    EXPECT_EQ(linktype_name(DLT_LINUX_SLL2), "LINUX_SLL2 (DLT 276)");
    EXPECT_EQ(linktype_name(DLT_IEEE802_11), "IEEE802_11 (DLT 105)");
    EXPECT_EQ(linktype_name(65535), "DLT 65535");
}

// A pcap link-type field is more than a link type: reserved bits and an FCS length.
TEST(Linktype, FieldsAsWritten)
{
    EXPECT_EQ(linktype_name(0x7fffffff),
              "0x7fffffff (bits 0-15: DLT 65535; reserved bits 0x0bff0000 set; FCS length 7 (bits 26, 28-31))");
    EXPECT_EQ(linktype_name(100000), "0x000186a0 (bits 0-15: DLT 34464; reserved bits 0x00010000 set)");
    EXPECT_EQ(linktype_name(0x44000001), "0x44000001 (bits 0-15: EN10MB (DLT 1); FCS length 4 (bits 26, 28-31))");
    // Without bit 26, bits 28-31 are reserved too.
    EXPECT_EQ(linktype_name(0x40000001), "0x40000001 (bits 0-15: EN10MB (DLT 1); reserved bits 0x40000000 set)");
    EXPECT_TRUE(linktype_supported(0x44000001));
    EXPECT_TRUE(linktype_supported(0x04000000 | DLT_RAW));
    EXPECT_FALSE(linktype_supported(0x40000001));
    EXPECT_FALSE(linktype_supported(0x08000001));
    EXPECT_FALSE(linktype_supported(0x00010001));
    EXPECT_EQ(fcs_length(0x44000001), 4u);
    EXPECT_EQ(fcs_length(0x40000001), 0u);
}

// --- to_ethernet ------------------------------------------------------------------

Bytes ipv4_packet(std::size_t size)
{
    Bytes p = frame(size, 0);
    p[0] = 0x45;
    return p;
}

Bytes ipv6_packet(std::size_t size)
{
    Bytes p = frame(size, 0);
    p[0] = 0x60;
    return p;
}

// The synthesised header: zero MACs, then the ethertype.
Bytes ethernet_header(std::uint16_t ethertype)
{
    Bytes h(12, 0);
    h.push_back(static_cast<std::uint8_t>(ethertype >> 8));
    h.push_back(static_cast<std::uint8_t>(ethertype));
    return h;
}

Bytes bytes_of(const EthernetFrame& f)
{
    return Bytes(f.bytes.begin(), f.bytes.end());
}

// Linux cooked v1: packet type, ARPHRD, address length, address (8), protocol.
Bytes sll_header(std::uint16_t protocol)
{
    Bytes h = {0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0};
    h.push_back(static_cast<std::uint8_t>(protocol >> 8));
    h.push_back(static_cast<std::uint8_t>(protocol));
    return h;
}

// Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address (8).
Bytes sll2_header(std::uint16_t protocol)
{
    Bytes h = {static_cast<std::uint8_t>(protocol >> 8),
               static_cast<std::uint8_t>(protocol),
               0,
               0,
               0,
               0,
               0,
               2,
               0,
               1,
               0,
               6,
               2,
               0,
               0,
               0,
               0,
               1,
               0,
               0};
    return h;
}

TEST(ToEthernet, EthernetPassesThrough)
{
    const Bytes record = frame(60, 3);
    Bytes scratch;
    const auto f = to_ethernet(DLT_EN10MB, record, 1514, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->bytes.data(), record.data());
    EXPECT_EQ(f->bytes.size(), 60u);
    EXPECT_EQ(f->wire_len, 1514u);
    EXPECT_TRUE(scratch.empty()) << "no copy for Ethernet";
}

TEST(ToEthernet, RawIpv4)
{
    const Bytes packet = ipv4_packet(40);
    Bytes scratch;
    const auto f = to_ethernet(DLT_RAW, packet, 1500, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x0800), packet));
    EXPECT_EQ(f->wire_len, 1514u);
}

TEST(ToEthernet, RawIpv6)
{
    const Bytes packet = ipv6_packet(60);
    Bytes scratch;
    const auto f = to_ethernet(DLT_RAW, packet, 60, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x86DD), packet));
    EXPECT_EQ(f->wire_len, 74u);
}

TEST(ToEthernet, RawJunkVersionGetsNoEthertype)
{
    Bytes scratch;
    for (const int first : {0x00, 0x15, 0x50, 0xF0}) {
        Bytes packet = frame(30, 0);
        packet[0] = static_cast<std::uint8_t>(first);
        const auto f = to_ethernet(DLT_RAW, packet, 30, scratch);
        ASSERT_TRUE(f);
        EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0), packet)) << first;
        EXPECT_EQ(f->wire_len, 44u);
    }
}

TEST(ToEthernet, RawEmptyRecord)
{
    Bytes scratch;
    const auto f = to_ethernet(DLT_RAW, {}, 0, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), ethernet_header(0));
    EXPECT_EQ(f->wire_len, 14u);
}

TEST(ToEthernet, Ipv4AndIpv6LinkTypesTrustTheLinkType)
{
    // DLT_IPV4/DLT_IPV6 say what the payload is, whatever its first nibble.
    Bytes scratch;
    const Bytes v6 = ipv6_packet(40);
    auto f = to_ethernet(DLT_IPV4, v6, 40, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x0800), v6));
    EXPECT_EQ(f->wire_len, 54u);
    const Bytes v4 = ipv4_packet(40);
    f = to_ethernet(DLT_IPV6, v4, 100, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x86DD), v4));
    EXPECT_EQ(f->wire_len, 114u);
}

TEST(ToEthernet, SllTakesTheEthertypeFromTheCookedHeader)
{
    Bytes scratch;
    const Bytes packet = frame(28, 9);  // an ARP body, say
    const auto f = to_ethernet(DLT_LINUX_SLL, concat(sll_header(0x0806), packet), 16 + 28, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x0806), packet));
    EXPECT_EQ(f->wire_len, 16u + 28 - 16 + 14);
}

TEST(ToEthernet, Sll2TakesTheEthertypeFromTheCookedHeader)
{
    Bytes scratch;
    const Bytes packet = ipv6_packet(48);
    const auto f = to_ethernet(DLT_LINUX_SLL2, concat(sll2_header(0x86DD), packet), 1000, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x86DD), packet));
    EXPECT_EQ(f->wire_len, 1000u - 20 + 14);
}

TEST(ToEthernet, CookedHeaderOnly)
{
    Bytes scratch;
    auto f = to_ethernet(DLT_LINUX_SLL, sll_header(0x0800), 16, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), ethernet_header(0x0800));
    EXPECT_EQ(f->wire_len, 14u);
    f = to_ethernet(DLT_LINUX_SLL2, sll2_header(0x0800), 20, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), ethernet_header(0x0800));
    EXPECT_EQ(f->wire_len, 14u);
}

// An empty frame (the program counts it malformed), counted on the wire as
// the Ethernet frame the record stood for: orig_len - cooked header + 14.
TEST(ToEthernet, CookedRecordShorterThanItsHeaderIsAnEmptyFrame)
{
    Bytes scratch;
    for (const std::size_t size : {0u, 1u, 15u}) {
        const auto f = to_ethernet(DLT_LINUX_SLL, frame(size, 0), 100, scratch);
        ASSERT_TRUE(f);
        EXPECT_TRUE(f->bytes.empty()) << size;
        EXPECT_EQ(f->wire_len, 100u - 16 + 14) << size;
    }
    for (const std::size_t size : {0u, 2u, 19u}) {
        const auto f = to_ethernet(DLT_LINUX_SLL2, frame(size, 0), 100, scratch);
        ASSERT_TRUE(f);
        EXPECT_TRUE(f->bytes.empty()) << size;
        EXPECT_EQ(f->wire_len, 100u - 20 + 14) << size;
    }
    // Shorter on the wire than the cooked header: just the Ethernet header.
    const auto f = to_ethernet(DLT_LINUX_SLL, frame(5, 0), 5, scratch);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->bytes.empty());
    EXPECT_EQ(f->wire_len, 14u);
}

TEST(ToEthernet, OrigLenBelowCaplenNeverCountsLessThanTheBytes)
{
    Bytes scratch;
    const Bytes record = concat(sll2_header(0x0800), ipv4_packet(60));  // 80 bytes
    for (const int dlt : {DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL, DLT_LINUX_SLL2}) {
        for (const std::uint32_t orig_len : {0u, 1u, 79u}) {
            const auto f = to_ethernet(dlt, record, orig_len, scratch);
            ASSERT_TRUE(f);
            EXPECT_GE(f->wire_len, f->bytes.size()) << "dlt " << dlt << " orig_len " << orig_len;
        }
    }
    // Exactly: as if orig_len were the caplen.
    EXPECT_EQ(to_ethernet(DLT_EN10MB, record, 10, scratch)->wire_len, 80u);
    EXPECT_EQ(to_ethernet(DLT_RAW, record, 10, scratch)->wire_len, 94u);
    EXPECT_EQ(to_ethernet(DLT_LINUX_SLL, record, 10, scratch)->wire_len, 78u);
    EXPECT_EQ(to_ethernet(DLT_LINUX_SLL2, record, 10, scratch)->wire_len, 74u);
}

TEST(ToEthernet, OrigLenNearTheLimitSaturates)
{
    // Found by fuzzing: 0xFFFFFFFF + 14 wrapped to 13, fewer than the bytes held.
    Bytes scratch;
    const Bytes packet = ipv4_packet(40);
    for (const int dlt : {DLT_RAW, DLT_IPV4, DLT_IPV6}) {
        for (const std::uint32_t orig_len : {0xFFFFFFFFu, 0xFFFFFFFFu - 13, 0xFFFFFFFFu - 14}) {
            const auto f = to_ethernet(dlt, packet, orig_len, scratch);
            ASSERT_TRUE(f);
            EXPECT_EQ(f->wire_len, 0xFFFFFFFFu) << "dlt " << dlt << " orig_len " << orig_len;
        }
    }
    EXPECT_EQ(to_ethernet(DLT_LINUX_SLL, concat(sll_header(0x0800), packet), 0xFFFFFFFFu, scratch)->wire_len,
              0xFFFFFFFFu - 2);
}

TEST(ToEthernet, UnsupportedLinkTypes)
{
    Bytes scratch;
    const Bytes record = frame(60, 0);
    for (const int dlt : {DLT_NULL, DLT_IEEE802_11, 147, -1}) {
        EXPECT_FALSE(to_ethernet(dlt, record, 60, scratch)) << dlt;
    }
}

TEST(ToEthernet, ScratchIsReused)
{
    Bytes scratch;
    const Bytes a = ipv4_packet(100), b = ipv6_packet(20);
    ASSERT_TRUE(to_ethernet(DLT_RAW, a, 100, scratch));
    const auto f = to_ethernet(DLT_RAW, b, 20, scratch);
    ASSERT_TRUE(f);
    EXPECT_EQ(bytes_of(*f), concat(ethernet_header(0x86DD), b)) << "nothing left over from the longer record";
}

}  // namespace
}  // namespace trafstat
