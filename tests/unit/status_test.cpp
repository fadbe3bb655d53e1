// `trafstat status` (and the agent's /status): the JSON object and the lines.
#include "output/status.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace trafstat {
namespace {

StatusReport report()
{
    StatusReport r{"/sys/fs/bpf/trafstat", "v1", {}};
    AttachmentStatus a;
    a.dir = "/sys/fs/bpf/trafstat/v1/eth0/xdp";
    a.attachment.device = "eth0";
    a.attachment.hook = "xdp";
    a.attachment.mode = "native";
    a.attachment.attached_at_s = 1796000000;
    a.attachment.totals[TS_CLASS_ALL] = {10, 1000};
    a.attachment.totals.table_overflow[TS_TABLE_FLOWS] = {2, 200};
    a.attachment.totals.table_paused[TS_TABLE_FLOWS] = {3, 300};
    TableSnapshot& flows = a.attachment.tables[TS_TABLE_FLOWS];
    flows.loaded = true;
    flows.capacity = 262144;
    flows.entries = 7;
    flows.keys_kept = 9;
    a.ifindex = 2;
    a.program_id = 11;
    a.link_id = 12;
    a.agent_serving = true;
    a.agent_pid = 4242;
    r.attachments.push_back(a);
    AttachmentStatus gone = a;
    gone.dir = "/sys/fs/bpf/trafstat/v1/eth1/xdp";
    gone.attachment.device = "eth1";
    gone.stale = "interface eth1 is gone";
    gone.agent_serving = false;
    r.attachments.push_back(gone);
    AttachmentStatus broken;
    broken.dir = "/sys/fs/bpf/trafstat/v1/eth2/tc-ingress";
    broken.attachment.device = "eth2";
    broken.attachment.hook = "tc-ingress";
    broken.error = "control is missing";
    r.attachments.push_back(broken);
    return r;
}

TEST(Status, JsonNamesEveryField)
{
    const auto j = nlohmann::json::parse(status_json(report()));
    EXPECT_EQ(j["pin_dir"], "/sys/fs/bpf/trafstat");
    EXPECT_EQ(j["layout"], "v1");
    ASSERT_EQ(j["attachments"].size(), 3u);
    const auto& a = j["attachments"][0];
    EXPECT_EQ(a["ifname"], "eth0");
    EXPECT_EQ(a["state"], "counting");
    EXPECT_EQ(a["program_id"], 11);
    EXPECT_EQ(a["link_id"], 12);
    EXPECT_EQ(a["attached_at"], "2026-11-30T00:53:20Z");
    EXPECT_EQ(a["agent"]["serving"], true);
    EXPECT_EQ(a["agent"]["pid"], 4242);
    EXPECT_EQ(a["total"]["packets"], 10);
    EXPECT_EQ(a["tables"]["flows"]["capacity"], 262144);
    EXPECT_EQ(a["tables"]["flows"]["occupancy"], 7);
    EXPECT_EQ(a["tables"]["flows"]["keys_kept"], 9);
    EXPECT_EQ(a["tables"]["flows"]["active"], false);
    EXPECT_EQ(a["tables"]["flows"]["overflow"]["packets"], 2);
    EXPECT_EQ(a["tables"]["flows"]["paused"]["bytes"], 300);
    EXPECT_FALSE(a["tables"].contains("talkers"));
    EXPECT_EQ(j["attachments"][1]["state"], "stale");
    EXPECT_EQ(j["attachments"][1]["stale"], "interface eth1 is gone");
    EXPECT_EQ(j["attachments"][2]["error"], "control is missing");
    EXPECT_FALSE(j["attachments"][2].contains("state"));
}

TEST(Status, LinesSayWhatCountsWhatIsStaleAndWhoServes)
{
    const std::string text = status_text(report());
    EXPECT_NE(text.find("eth0 xdp (native): counting, program 11 link 12, since 2026-11-30T00:53:20Z"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("agent: serving (pid 4242)"), std::string::npos) << text;
    EXPECT_NE(text.find("flows    off capacity 262144, last interval 7 keys, 9 keys kept, overflow 2 packets, "
                        "paused 3 packets"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("eth1 xdp (native): STALE: interface eth1 is gone"), std::string::npos) << text;
    EXPECT_NE(text.find("eth2 tc-ingress: unreadable: control is missing"), std::string::npos) << text;
    EXPECT_EQ(status_text(StatusReport{"/x", "v1", {}}), "no trafstat attachment under /x\n");
}

}  // namespace
}  // namespace trafstat
