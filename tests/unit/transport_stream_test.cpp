/// \file
/// The message stream on its own (stream.h): segmentation, the send order (lost first, then the
/// cursor), acknowledgement in stream order, re-cutting for another datagram size, and
/// reassembly under its budgets; and the receive side's ACK bookkeeping (ack.h).
#include "core/transport/ack.h"
#include "core/transport/stream.h"

#include <gtest/gtest.h>

namespace flo::core {
namespace {

Bytes bytes(std::size_t n, std::uint8_t seed = 1) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::uint8_t(seed + i * 31);
  return b;
}

TEST(TransportStream, SegmentsGoOutInOrderLostOnesFirst) {
  OutStream out;
  out.push(1, bytes(250), 100); // 3 segments: 100, 100, 50
  out.push(2, bytes(0), 100);   // the empty message is one empty segment
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order;
  while (auto next = out.peek()) {
    order.emplace_back(next->ref.seq, next->ref.index);
    EXPECT_FALSE(next->retransmit);
    out.take(*next);
  }
  EXPECT_EQ(order,
            (std::vector<std::pair<std::uint64_t, std::uint32_t>>{{0, 0}, {0, 1}, {0, 2}, {1, 0}}));
  EXPECT_EQ(out.find(0)->lengthOf(2), 50u);
  EXPECT_EQ(out.find(1)->lengthOf(0), 0u);
  out.lost({0, 1});
  auto next = out.peek();
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->retransmit);
  EXPECT_EQ(next->ref.index, 1u);
  out.take(*next);
  EXPECT_FALSE(out.peek());
  // Acknowledged only in stream order, and only when whole.
  out.acked({1, 0});
  EXPECT_TRUE(out.popAcknowledged().empty()) << "message 2 waits for message 1";
  out.acked({0, 0});
  out.acked({0, 2});
  EXPECT_TRUE(out.popAcknowledged().empty());
  out.acked({0, 1});
  out.acked({0, 1}); // twice is once
  EXPECT_EQ(out.popAcknowledged(), (std::vector<MessageId>{1, 2}));
  EXPECT_TRUE(out.empty());
}

TEST(TransportStream, ANewSessionSendsWhatWasInFlightAgainCutForItsDatagrams) {
  OutStream out;
  out.push(7, bytes(1000), 100); // 10 segments
  for (int i = 0; i < 4; ++i) out.take(*out.peek());
  out.acked({0, 0});
  out.acked({0, 1});
  // In flight: 2 and 3. A session with 300-byte segments: bytes 0..199 were acknowledged, so
  // the new first segment (0..299) is not; nothing is lost, everything unacknowledged goes again.
  out.restartSending(300);
  const OutMessage& m = *out.find(0);
  EXPECT_EQ(m.chunk, 300u);
  ASSERT_EQ(m.segs.size(), 4u);
  EXPECT_EQ(m.acked, 0u);
  // With 50-byte segments, the first four (bytes 0..199) stay acknowledged.
  out.restartSending(50);
  const OutMessage& n = *out.find(0);
  ASSERT_EQ(n.segs.size(), 20u);
  EXPECT_EQ(n.acked, 0u) << "the 300-byte cut forgot nothing it could keep, but had nothing whole";
  OutStream again;
  again.push(8, bytes(1000), 100);
  for (int i = 0; i < 3; ++i) again.take(*again.peek());
  again.acked({0, 0});
  again.acked({0, 1});
  again.restartSending(50);
  const OutMessage& k = *again.find(0);
  EXPECT_EQ(k.acked, 4u);
  EXPECT_EQ(k.segs[3], SegState::Acked);
  EXPECT_EQ(k.segs[4], SegState::Unsent) << "was in flight: goes again";
  auto next = again.peek();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->ref.index, 4u);
}

TEST(TransportStream, RenumberAndClear) {
  OutStream out;
  out.push(1, bytes(10), 100);
  out.push(2, bytes(10), 100);
  out.take(*out.peek());
  out.acked({0, 0});
  ASSERT_EQ(out.popAcknowledged(), std::vector<MessageId>{1});
  out.renumber(100); // the peer restarted: message 2 is now the stream's first
  EXPECT_EQ(out.find(0)->id, 2u);
  EXPECT_EQ(out.clear(), std::vector<MessageId>{2});
  out.push(3, bytes(1), 100);
  EXPECT_EQ(out.find(0)->id, 3u) << "numbers start again from 0";
}

TEST(TransportStream, ReassemblyDeliversInOrderWithinItsBudgets) {
  ReassemblyBudget budget{0, 10'000};
  InStream in({5'000, 16}, budget);
  Bytes a = bytes(3000, 1), b = bytes(3000, 2);
  std::vector<Bytes> out;
  // Message 1 ahead of message 0: buffered, not delivered.
  EXPECT_EQ(in.accept(1, 0, 3000, b.data(), 1500), InStream::Accept::Ok);
  EXPECT_EQ(in.accept(1, 1500, 3000, b.data() + 1500, 1500), InStream::Accept::Ok);
  in.deliverReady(out);
  EXPECT_TRUE(out.empty());
  // Message 2 would pass the per-peer buffer; the next in order (0) always fits.
  Bytes c = bytes(3000, 3);
  EXPECT_EQ(in.accept(2, 0, 3000, c.data(), 100), InStream::Accept::Refused);
  EXPECT_EQ(in.accept(0, 1000, 3000, a.data() + 1000, 2000), InStream::Accept::Ok);
  EXPECT_EQ(in.accept(0, 0, 3000, a.data(), 1500), InStream::Accept::Ok); // overlaps
  EXPECT_EQ(in.accept(0, 0, 4000, a.data(), 10), InStream::Accept::Violation) << "another total";
  EXPECT_EQ(budget.used, 6000u);
  in.deliverReady(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], a);
  EXPECT_EQ(out[1], b);
  EXPECT_EQ(budget.used, 0u);
  EXPECT_EQ(in.accept(0, 0, 3000, a.data(), 10), InStream::Accept::Ok) << "delivered: ack again";
  EXPECT_EQ(in.accept(200, 0, 10, a.data(), 10), InStream::Accept::Refused) << "too far ahead";
  // The shared budget binds over peers too.
  InStream other({100'000, 16}, budget);
  Bytes big = bytes(9000);
  EXPECT_EQ(other.accept(0, 0, 9000, big.data(), 10), InStream::Accept::Ok);
  EXPECT_EQ(in.accept(2, 0, 3000, c.data(), 10), InStream::Accept::Refused);
  other.clear();
  EXPECT_EQ(budget.used, 0u);
}

TEST(TransportStream, BehindFurthestSignsLoss) {
  ReassemblyBudget budget{0, 1 << 20};
  InStream in({1 << 20, 16}, budget);
  EXPECT_FALSE(in.behindFurthest(0, 100));
  EXPECT_FALSE(in.behindFurthest(0, 200));
  EXPECT_TRUE(in.behindFurthest(0, 150)) << "fills a gap";
  EXPECT_TRUE(in.behindFurthest(0, 200)) << "repeats";
  EXPECT_FALSE(in.behindFurthest(1, 10));
}

TEST(TransportAcks, ReplayWindowAndAckTiming) {
  ReplayWindow w(64);
  EXPECT_TRUE(w.fresh(5));
  w.mark(5);
  EXPECT_FALSE(w.fresh(5));
  EXPECT_TRUE(w.fresh(4));
  w.mark(200);
  EXPECT_FALSE(w.fresh(100)) << "too old";
  EXPECT_TRUE(w.fresh(199));

  AckTracker acks;
  Time t0 = Time{} + std::chrono::hours(1);
  auto delay = std::chrono::milliseconds(5);
  EXPECT_FALSE(acks.onAuthenticated(0));
  acks.onEliciting(0, false, t0, delay);
  EXPECT_TRUE(acks.pending());
  EXPECT_FALSE(acks.due(t0)) << "one packet waits up to ackDelay";
  EXPECT_TRUE(acks.due(t0 + delay));
  EXPECT_FALSE(acks.onAuthenticated(1));
  acks.onEliciting(1, false, t0, delay);
  EXPECT_TRUE(acks.due(t0)) << "every second packet at once";
  Bytes plain;
  acks.write(plain, 1000);
  EXPECT_FALSE(acks.pending());
  EXPECT_TRUE(acks.onAuthenticated(5)) << "2..4 missing";
  EXPECT_TRUE(acks.quickAck(true, true));
  for (unsigned i = 0; i < AckTracker::kQuickAcks; ++i) EXPECT_TRUE(acks.quickAck(false, true));
  EXPECT_FALSE(acks.quickAck(false, true));
  acks.onEliciting(5, true, t0, delay);
  EXPECT_EQ(acks.frameSize(), wire::ackSize(2)) << "ranges 0..1 and 5..5";
}

} // namespace
} // namespace flo::core
