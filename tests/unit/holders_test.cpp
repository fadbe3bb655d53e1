#include "bpf/holders.hpp"

#include <gtest/gtest.h>

using trafstat::fdinfo_program_id;

TEST(FdinfoProgramId, ReadsAProgramsFd)
{
    EXPECT_EQ(fdinfo_program_id("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t2061\nprog_type:\t6\n"
                                "prog_jited:\t1\nprog_tag:\tbf84a3c5b3dbe49a\nmemlock:\t4096\nprog_id:\t301530\n"
                                "run_time_ns:\t0\nrun_cnt:\t0\n"),
              301530U);
}

TEST(FdinfoProgramId, ReadsALinksFd)
{
    EXPECT_EQ(fdinfo_program_id("pos:\t0\nflags:\t02000000\nlink_type:\txdp\nlink_id:\t12\n"
                                "prog_tag:\t37dad622eb56995a\nprog_id:\t17\nifindex:\t6\n"),
              17U);
}

TEST(FdinfoProgramId, NoneForAMapOrAnotherFd)
{
    EXPECT_EQ(fdinfo_program_id("pos:\t0\nflags:\t02000002\nmap_type:\t2\nkey_size:\t4\nmap_id:\t9\n"), std::nullopt);
    EXPECT_EQ(fdinfo_program_id(""), std::nullopt);
    EXPECT_EQ(fdinfo_program_id("pos:\t0\nflags:\t0100002\nmnt_id:\t25\n"), std::nullopt);
}

TEST(FdinfoProgramId, OnlyAWholeFieldAtALinesStart)
{
    EXPECT_EQ(fdinfo_program_id("xprog_id:\t5\nprog_id:\t6"), 6U);  // the last line without a newline too
    EXPECT_EQ(fdinfo_program_id("prog_id:\tnot-a-number\n"), std::nullopt);
}

TEST(ProgramHolders, NoneHoldAProgramThatDoesNotExist)
{
    EXPECT_TRUE(trafstat::program_holders(0xfffffff0U).found.empty());
}

TEST(ProgramHolders, DescribedByPidAndName)
{
    EXPECT_EQ(trafstat::describe(trafstat::ProgramHolder{1234, "trafstat"}), "pid 1234 (trafstat)");
    EXPECT_EQ(trafstat::describe(trafstat::ProgramHolder{7, ""}), "pid 7");
}
