// Packet tests of pinned attachments: the real program pinned in a BPF
// filesystem of the test's own (a private mount namespace), adopted from its
// pins as `dump` and the agent adopt it, drained into the store of totals per
// key (PinnedCounting). A drain that a killed process left half done is
// finished exactly by the next drainer; the store's overflow row; the
// runtime switches of the control block, obeyed from the next packet.
#include "bpf/pins.hpp"
#include "engine/engine.hpp"
#include "engine/pinned.hpp"
#include "stats/flows.hpp"
#include "support/packet_builder.hpp"
#include "support/pinned_cpu.hpp"
#include "support/privileged.hpp"

#include <bpf/bpf.h>

#include <gtest/gtest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace trafstat::test {
namespace {

using B = PacketBuilder;
constexpr std::uint32_t kFlows = TS_TABLE_BIT(TS_TABLE_FLOWS);

class PinnedTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        // A mount namespace of this process alone (ctest runs each test in a
        // process of its own): the BPF filesystem and its pins vanish with it.
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            if (running_in_ci() || errno != EPERM)
                FAIL() << "cannot make a private mount namespace: " << errno_text(-errno);
            GTEST_SKIP() << "needs root (a private mount namespace for a BPF filesystem)";
        }
        char tmpl[] = "/tmp/trafstat-pinned-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root_ = tmpl;
        ASSERT_EQ(mount("bpf", root_.c_str(), "bpf", 0, nullptr), 0) << errno_text(-errno);
        pin_dir_ = root_ + "/trafstat";
        check_pin_dir(pin_dir_, true);
        dir_ = attachment_dir(pin_dir_, "test0", "xdp");
        ASSERT_EQ(mkdir(layout_dir(pin_dir_).c_str(), 0700), 0);
        ASSERT_EQ(mkdir((layout_dir(pin_dir_) + "/test0").c_str(), 0700), 0);
        ASSERT_EQ(mkdir(dir_.c_str(), 0700), 0);
    }
    void TearDown() override
    {
        if (!root_.empty()) {
            umount2(root_.c_str(), MNT_DETACH);
            rmdir(root_.c_str());
        }
    }

    // Loads the program with the flows table, its store holding `totals` keys, and pins its maps.
    std::optional<CounterProgram> load_pinned(std::uint32_t totals = 64)
    {
        LoadOptions o;
        o.tables = kFlows;
        o.table_size = {64, 64, 64};
        o.size_histogram = true;
        o.key_totals = totals + TS_TABLES;
        auto p = acquire_privileged("load the counter program", [&] { return CounterProgram::load(o); });
        if (p)
            p->pin(dir_);
        return p;
    }

    static void run(const CounterProgram& p, const Bytes& frame, int repeat = 1)
    {
        bpf_test_run_opts opts{};
        opts.sz = sizeof opts;
        opts.data_in = frame.data();
        opts.data_size_in = static_cast<__u32>(frame.size());
        opts.repeat = repeat;
        ASSERT_EQ(bpf_prog_test_run_opts(p.xdp_fd(), &opts), 0) << errno_text(-errno);
    }

    static Bytes udp(std::uint16_t sport) { return B().eth().ipv4().udp(sport, 53).payload(10).build(); }

    // The dump's report of `c`, checked against the rules every report keeps.
    static AttachmentReport reconciled(const PinnedCounting& c)
    {
        AttachmentReport r = c.report("test0", "xdp", "native", ViewOptions{}, true);
        const auto broken = CountingEngine::reconcile(r);
        EXPECT_TRUE(broken.empty()) << broken.front();
        return r;
    }

    // The store's packets for the flow from `sport`.
    static std::uint64_t kept(const PinnedCounting& c, std::uint16_t sport)
    {
        for (const auto& [key, k] : c.totals().table(TS_TABLE_FLOWS))
            if (key.sport == sport)
                return k.stats.packets;
        return 0;
    }

    PinnedToOneCpu pinned_cpu_;
    std::string root_, pin_dir_, dir_;
};

mode_t mode_of(const std::string& path)
{
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
}

// The message of check_pin_dir's refusal (exit code 10), or "" when it accepts.
std::string refusal(const std::string& pin_dir, bool create)
{
    try {
        check_pin_dir(pin_dir, create);
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::pin_dir) << e.what();
        return e.what();
    }
    return {};
}

// docs/privileges.md: the directories trafstat makes for a pin dir are owner-only,
// whatever the umask; a pin dir that another user could change is refused.
TEST_F(PinnedTest, PinDirAndTheParentsItMakesAreOwnerOnly)
{
    const mode_t old = umask(0);
    check_pin_dir(root_ + "/made/by/trafstat", true);
    umask(old);
    for (const char* dir : {"/made", "/made/by", "/made/by/trafstat"})
        EXPECT_EQ(mode_of(root_ + dir), 0700u) << dir;
    EXPECT_EQ(mode_of(pin_dir_), 0700u);
}

TEST_F(PinnedTest, PinDirThatAnotherUserCouldChangeIsRefused)
{
    const std::string open = root_ + "/open";
    ASSERT_EQ(mkdir(open.c_str(), 0700), 0);
    ASSERT_EQ(chmod(open.c_str(), 0777), 0);
    std::string why = refusal(open + "/trafstat", true);
    EXPECT_NE(why.find(open + ", a directory above it, is writable by others (mode 0777, no sticky bit)"),
              std::string::npos)
        << why;
    EXPECT_NE(access((open + "/trafstat").c_str(), F_OK), 0) << "nothing made under an unsafe parent";
    ASSERT_EQ(chmod(open.c_str(), 0775), 0);
    EXPECT_NE(refusal(open, false).find("writable by its group"), std::string::npos);
    // The sticky bit (/tmp, the bpffs root as mounted here): others cannot replace our entries.
    ASSERT_EQ(chmod(open.c_str(), 01777), 0);
    EXPECT_EQ(refusal(open + "/trafstat", true), "");
    ASSERT_EQ(chmod(pin_dir_.c_str(), 0770), 0);
    EXPECT_NE(refusal(pin_dir_, false).find(pin_dir_ + " is writable by its group"), std::string::npos);
    ASSERT_EQ(chmod(pin_dir_.c_str(), 0700), 0);
    ASSERT_EQ(chown(pin_dir_.c_str(), 12345, 12345), 0);
    why = refusal(pin_dir_, false);
    EXPECT_NE(why.find("is owned by uid 12345, neither root nor this user"), std::string::npos) << why;
}

TEST_F(PinnedTest, AdoptedProgramReadsAndDrainsWhatThePinnedOneCounted)
{
    auto p = load_pinned();
    if (!p)
        return;
    run(*p, udp(1000), 3);
    PinnedCounting c(CounterProgram::adopt(dir_));
    EXPECT_EQ(c.live_counters()[TS_CLASS_ALL].packets, 3u);
    EXPECT_EQ(c.program().table_capacities(), p->table_capacities()) << "the layout is read from the control block";
    c.drain();
    run(*p, udp(1000), 2);
    run(*p, udp(2000), 4);
    c.drain();
    EXPECT_EQ(kept(c, 1000), 5u);
    EXPECT_EQ(kept(c, 2000), 4u);
    const AttachmentReport r = reconciled(c);
    EXPECT_EQ(r.counters[TS_CLASS_ALL].packets, 9u);
    EXPECT_EQ(c.program().control().last_merged_epoch, c.program().table_epoch() - 1);
    // A second adopter (a restarted agent) reads the same store.
    PinnedCounting again(CounterProgram::adopt(dir_));
    EXPECT_EQ(kept(again, 1000), 5u);
    EXPECT_EQ(reconciled(again).counters, r.counters);
}

TEST_F(PinnedTest, DrainKilledAfterReadingIsMergedByTheNextDrainer)
{
    auto p = load_pinned();
    if (!p)
        return;
    PinnedCounting first(CounterProgram::adopt(dir_));
    run(*p, udp(1000), 3);
    run(*p, udp(2000), 2);
    // A drainer that closed the epoch and read it (clearing its bitmap), then died before merging.
    TableEntries lost;
    first.program().drain_tables(lost);
    ASSERT_EQ(lost[TS_TABLE_FLOWS].size(), 2u);
    run(*p, udp(1000), 1);  // counted in the next epoch
    PinnedCounting next(CounterProgram::adopt(dir_));
    next.drain();
    EXPECT_EQ(kept(next, 1000), 4u);
    EXPECT_EQ(kept(next, 2000), 2u);
    EXPECT_EQ(reconciled(next).counters[TS_CLASS_ALL].packets, 6u);
}

TEST_F(PinnedTest, DrainKilledMidMergeIsFinishedWithoutCountingAKeyTwice)
{
    auto p = load_pinned();
    if (!p)
        return;
    PinnedCounting first(CounterProgram::adopt(dir_));
    run(*p, udp(1000), 3);
    run(*p, udp(2000), 2);
    const std::uint32_t epoch = first.program().table_epoch();
    TableEntries read;
    first.program().drain_tables(read);
    // It merged the flow from port 1000 (its row records the epoch), then died.
    ts_total_key k{};
    k.table = TS_TABLE_FLOWS;
    for (const FlowEntry& e : read[TS_TABLE_FLOWS])
        if (e.key.sport == 1000)
            k.key = kernel_key_of(e.key);
    const ts_total merged{3, 3 * udp(1000).size(), 1, 1, epoch, 0, 0, 0};
    ASSERT_EQ(bpf_map_update_elem(first.program().key_totals_fd(), &k, &merged, BPF_NOEXIST), 0);
    PinnedCounting next(CounterProgram::adopt(dir_));
    next.drain();
    EXPECT_EQ(kept(next, 1000), 3u) << "merged once, not twice";
    EXPECT_EQ(kept(next, 2000), 2u);
    EXPECT_EQ(reconciled(next).counters[TS_CLASS_ALL].packets, 5u);
}

TEST_F(PinnedTest, KeysTheStoreCannotHoldGoToItsOtherRowAndStillReconcile)
{
    auto p = load_pinned(16);
    if (!p)
        return;
    PinnedCounting c(CounterProgram::adopt(dir_));
    for (std::uint16_t port = 1000; port < 1030; ++port)
        run(*p, udp(port), 2);
    c.drain();
    const std::size_t held = c.totals().table(TS_TABLE_FLOWS).size();
    EXPECT_GE(held, 14u);
    EXPECT_LE(held, 16u);
    EXPECT_EQ(c.totals().other(TS_TABLE_FLOWS).packets, 2 * (30 - held));
    const AttachmentReport r = reconciled(c);
    EXPECT_EQ(r.counters.table_overflow[TS_TABLE_FLOWS].packets, 2 * (30 - held));
}

TEST_F(PinnedTest, TableSwitchedOffCountsPausedFromTheNextPacket)
{
    auto p = load_pinned();
    if (!p)
        return;
    CounterProgram control = CounterProgram::adopt(dir_);
    PinnedCounting c(CounterProgram::adopt(dir_));
    run(*p, udp(1000), 2);
    __atomic_fetch_and(&control.control().tables_active, ~kFlows, __ATOMIC_SEQ_CST);
    run(*p, udp(1000), 5);
    __atomic_fetch_or(&control.control().tables_active, kFlows, __ATOMIC_SEQ_CST);
    run(*p, udp(1000), 1);
    c.drain();
    EXPECT_EQ(kept(c, 1000), 3u);
    const AttachmentReport r = reconciled(c);
    EXPECT_EQ(r.counters.table_paused[TS_TABLE_FLOWS].packets, 5u);
    EXPECT_EQ(r.counters.table_paused[TS_TABLE_FLOWS].bytes, 5 * udp(1000).size());
}

TEST_F(PinnedTest, AnotherLayoutIsRefusedNotRead)
{
    auto p = load_pinned();
    if (!p)
        return;
    p->control().layout_version = TS_LAYOUT_VERSION + 1;
    try {
        (void)CounterProgram::adopt(dir_);
        FAIL() << "adopted a layout of another version";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::pin_dir);
        EXPECT_NE(std::string(e.what()).find("detach"), std::string::npos) << e.what();
    }
    p->control().layout_version = TS_LAYOUT_VERSION;
    ASSERT_EQ(mkdir((pin_dir_ + "/v" + std::to_string(TS_LAYOUT_VERSION + 1)).c_str(), 0700), 0);
    try {
        check_pin_dir(pin_dir_, false);
        FAIL() << "accepted a pin dir holding another layout";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::pin_dir);
        EXPECT_NE(std::string(e.what()).find("trafstat detach"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace trafstat::test
