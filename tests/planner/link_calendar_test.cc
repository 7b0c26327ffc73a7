// The link calendar the planner uses for the DRAM link and each NoC link:
// earliest fitting gap, merging of touching intervals.
#include "../../planner/src/link_calendar.h"

#include "gtest/gtest.h"

namespace snnplan::plan {
namespace {

TEST(LinkCalendar, TakesTheEarliestGapThatFits) {
  LinkCalendar link;
  EXPECT_EQ(link.Earliest(5, 10), 5);    // idle link
  link.Reserve(0, 10);                   // [0,10)
  link.Reserve(20, 10);                  // [20,30)
  EXPECT_EQ(link.Earliest(0, 10), 10);   // the gap [10,20) fits 10 exactly
  EXPECT_EQ(link.Earliest(0, 11), 30);   // but not 11
  EXPECT_EQ(link.Earliest(12, 10), 30);  // from 12 the gap is too short
  EXPECT_EQ(link.Earliest(25, 1), 30);   // inside a busy interval
  EXPECT_EQ(link.end(), 30);
}

TEST(LinkCalendar, TouchingIntervalsMergeAndZeroLengthIsFree) {
  LinkCalendar link;
  link.Reserve(0, 10);
  link.Reserve(20, 10);
  link.Reserve(10, 10);  // fills the gap: one interval [0,30)
  EXPECT_EQ(link.Earliest(0, 1), 30);
  link.Reserve(40, 0);  // nothing
  EXPECT_EQ(link.Earliest(40, 5), 40);
  EXPECT_EQ(link.end(), 30);
}

}  // namespace
}  // namespace snnplan::plan
