/// \file
/// Provenance records: every data item a flow emits is one signed, self-certifying record of
/// where it came from (after NiFi's provenance events). A record names its parent items by id,
/// so a chain of records is a hash-linked DAG that anyone can verify offline back to its sources.
///
/// Choices:
/// - **Item id.** `did:key:z` + base58btc of a multihash: the multicodec of BLAKE2b-256 (0xb220,
///   varint a0 e4 02), the length 0x20 and the BLAKE2b-256 digest of `signedBytes()`. It is
///   did:key in syntax only, a content address: `parseDidKey` rejects it (it is not an Ed25519
///   key), so an item id is never mistaken for a producer. Because the id is the digest of
///   everything the producer signs (parents included), a parent link is a hash link, an id
///   cannot be reused for other content, and cycles cannot be built.
/// - **Signature.** The producer's Ed25519 signature over `signedBytes()`: the canonical record
///   "provenance" of every field but the id and the signature. The producer is a did:key.
/// - **Events and parents.** Create has no parents (data enters the flow: generated, read or
///   received from outside Difuon). Join has at least two distinct parents. Fork, Modify, Send,
///   Receive and Drop have exactly one (a fork writes one Fork record per child; children with
///   identical content are the same item). Drop ends an item: its payload hash is all zero.
///   Parents are distinct, in the producer's order (a join may care about order).
/// - **Links** (checked by the store, which sees both ends): no item derives from a Drop, and a
///   Receive's parent is a Send.
/// - Timestamps are the producer's clock (microseconds since the Unix epoch) and are not checked
///   against the parents' (clocks of different producers disagree).
#pragma once

#include "core/canonical.h"
#include "core/crypto.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flo::core {

/// What a lineage or record check found wrong, in the order a record is checked.
enum class ProvenanceCheck : std::uint8_t {
  Ok,
  Missing,     ///< no record is stored under the id (a parent or the queried item)
  Storage,     ///< the database failed while reading
  Decode,      ///< the stored bytes are not a canonical provenance record
  Shape,       ///< event / parent-count rules, field limits, malformed parent ids
  Producer,    ///< the producer is not a did:key of an Ed25519 key
  ItemId,      ///< the content does not hash to the id (or is stored under another id)
  Signature,   ///< the signature does not verify with the producer's key
  Link,        ///< a parent of this item is a Drop, or a Receive's parent is not a Send
  ParentIndex, ///< the store's parent index disagrees with the record's parents
};
const char* checkName(ProvenanceCheck check);

inline constexpr std::size_t kMaxProvenanceParents = 4096;
inline constexpr std::size_t kMaxProvenanceText = 1024; ///< bytes of the job or producer

struct ProvenanceRecord {
  enum class Event : std::uint8_t { Create, Fork, Join, Modify, Send, Receive, Drop };

  std::string itemId;               ///< itemIdOf(hash(signedBytes()))
  Event event = Event::Create;      ///< what happened to produce the item
  std::vector<std::string> parents; ///< parent item ids
  Digest payloadHash{};             ///< BLAKE2b-256 of the payload; zero for Drop
  std::string job;                  ///< the producing job (its did:key, or a name)
  std::string producer;             ///< did:key of the key that signs
  std::uint64_t timestampMicros = 0;
  Signature signature{};

  /// What the id digests and the producer signs: every field but the id and the signature.
  Bytes signedBytes() const;
  /// The whole record, id and signature included (what the store keeps).
  Bytes encode() const;
  /// Structural decoding only (types, lengths, known event): the canonical encoding, exactly the
  /// eight fields. Use verifyRecord to check the content. Nullopt and a reason otherwise.
  static std::optional<ProvenanceRecord> decode(const Bytes& bytes, std::string* error = nullptr);

  /// Sets the producer to `key`'s did:key, then computes the id and the signature.
  void seal(const SigningKey& key);
};

const char* eventName(ProvenanceRecord::Event event);
std::optional<ProvenanceRecord::Event> eventFromName(std::string_view name);

/// The item id of a signed-bytes digest, and back (nullopt and a reason for anything else).
std::string itemIdOf(const Digest& digest);
std::optional<Digest> parseItemId(std::string_view id, std::string* error = nullptr);

/// A new sealed record: the producer's key signs it at `timestampMicros`.
ProvenanceRecord makeProvenanceRecord(const SigningKey& producer, ProvenanceRecord::Event event,
                                      std::vector<std::string> parents, const Digest& payloadHash,
                                      std::string job, std::uint64_t timestampMicros);
/// The same with the payload itself (hashed with BLAKE2b-256; ignored for Drop).
ProvenanceRecord makeProvenanceRecord(const SigningKey& producer, ProvenanceRecord::Event event,
                                      std::vector<std::string> parents, const Bytes& payload,
                                      std::string job, std::uint64_t timestampMicros);

/// Checks one record on its own, in this order: Shape, Producer, ItemId, Signature. Returns the
/// first that fails (Ok when none does) and, in `detail`, why.
ProvenanceCheck verifyRecord(const ProvenanceRecord& record, std::string* detail = nullptr);

} // namespace flo::core
