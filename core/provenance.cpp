/// \file
/// Provenance records: canonical encoding, ids, sealing and the per-record checks (see
/// provenance.h).
#include "core/provenance.h"

#include "core/identity.h"

#include <algorithm>
#include <array>
#include <unordered_set>

namespace flo::core {

namespace {

constexpr std::string_view kType = "provenance";
constexpr std::string_view kItemPrefix = "did:key:z";
// Multihash header: multicodec blake2b-256 (0xb220) as an unsigned varint, then the length 32.
constexpr std::array<std::uint8_t, 4> kMultihash = {0xa0, 0xe4, 0x02, 0x20};

constexpr std::array<const char*, 7> kEventNames = {"create", "fork",    "join", "modify",
                                                    "send",   "receive", "drop"};

Value::Map signedBody(const ProvenanceRecord& r) {
  Value::Array parents;
  parents.reserve(r.parents.size());
  for (const auto& p : r.parents) parents.emplace_back(p);
  return {{"event", eventName(r.event)},
          {"parents", std::move(parents)},
          {"payload", toBytes(r.payloadHash)},
          {"job", r.job},
          {"producer", r.producer},
          {"time", r.timestampMicros}};
}

} // namespace

const char* checkName(ProvenanceCheck check) {
  switch (check) {
  case ProvenanceCheck::Ok:
    return "ok";
  case ProvenanceCheck::Missing:
    return "missing";
  case ProvenanceCheck::Storage:
    return "storage";
  case ProvenanceCheck::Decode:
    return "decode";
  case ProvenanceCheck::Shape:
    return "shape";
  case ProvenanceCheck::Producer:
    return "producer";
  case ProvenanceCheck::ItemId:
    return "item-id";
  case ProvenanceCheck::Signature:
    return "signature";
  case ProvenanceCheck::Link:
    return "link";
  case ProvenanceCheck::ParentIndex:
    return "parent-index";
  }
  return "?";
}

const char* eventName(ProvenanceRecord::Event event) {
  return kEventNames[static_cast<std::size_t>(event)];
}

std::optional<ProvenanceRecord::Event> eventFromName(std::string_view name) {
  for (std::size_t i = 0; i < kEventNames.size(); ++i)
    if (name == kEventNames[i]) return static_cast<ProvenanceRecord::Event>(i);
  return std::nullopt;
}

std::string itemIdOf(const Digest& digest) {
  Bytes b(kMultihash.begin(), kMultihash.end());
  b.insert(b.end(), digest.begin(), digest.end());
  return std::string(kItemPrefix) + base58Encode(b);
}

std::optional<Digest> parseItemId(std::string_view id, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return std::nullopt;
  };
  if (!id.starts_with(kItemPrefix)) return fail("an item id starts with did:key:z");
  // 36 bytes are at most 50 base58 digits; refuse longer text before decoding it.
  if (id.size() > kItemPrefix.size() + 50) return fail("an item id is too long");
  auto bytes = base58Decode(id.substr(kItemPrefix.size()));
  if (!bytes) return fail("an item id is not valid base58btc");
  if (bytes->size() != kMultihash.size() + 32 ||
      !std::equal(kMultihash.begin(), kMultihash.end(), bytes->begin()))
    return fail("an item id is a BLAKE2b-256 multihash (a0 e4 02 20 + 32 bytes)");
  Digest d{};
  std::copy(bytes->begin() + kMultihash.size(), bytes->end(), d.begin());
  return d;
}

Bytes ProvenanceRecord::signedBytes() const {
  return encodeRecord({std::string(kType), kEncodingVersion, signedBody(*this)});
}

Bytes ProvenanceRecord::encode() const {
  Value::Map body = signedBody(*this);
  body["id"] = itemId;
  body["signature"] = toBytes(signature);
  return encodeRecord({std::string(kType), kEncodingVersion, std::move(body)});
}

std::optional<ProvenanceRecord> ProvenanceRecord::decode(const Bytes& bytes, std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = decodeRecord(bytes, kType, &why);
  if (!record) return fail("not a provenance record: " + why);
  const auto& b = record->body;
  if (b.size() != 8)
    return fail("a provenance record has exactly event, id, job, parents, payload, producer, "
                "signature and time");
  auto get = [&](const char* k) -> const Value* {
    auto it = b.find(k);
    return it == b.end() ? nullptr : &it->second;
  };
  const Value *event = get("event"), *id = get("id"), *job = get("job"), *parents = get("parents"),
              *payload = get("payload"), *producer = get("producer"), *sig = get("signature"),
              *time = get("time");
  if (!event || !event->isText() || !id || !id->isText() || !job || !job->isText() || !parents ||
      !parents->isArray() || !payload || !payload->isBytes() || !producer || !producer->isText() ||
      !sig || !sig->isBytes() || !time || !time->isUnsigned())
    return fail("a provenance field is missing or has the wrong type");
  ProvenanceRecord r;
  auto e = eventFromName(event->asText());
  if (!e) return fail("unknown provenance event '" + event->asText() + "'");
  r.event = *e;
  auto p = toArray<32>(payload->asBytes());
  auto s = toArray<64>(sig->asBytes());
  if (!p || !s) return fail("the payload hash is 32 bytes and the signature 64");
  r.payloadHash = *p;
  r.signature = *s;
  r.parents.reserve(parents->asArray().size());
  for (const Value& parent : parents->asArray()) {
    if (!parent.isText()) return fail("a parent is not a text item id");
    r.parents.push_back(parent.asText());
  }
  r.itemId = id->asText();
  r.job = job->asText();
  r.producer = producer->asText();
  r.timestampMicros = time->asUnsigned();
  return r;
}

void ProvenanceRecord::seal(const SigningKey& key) {
  producer = didKey(key.publicKey());
  Bytes content = signedBytes();
  itemId = itemIdOf(hash(content));
  signature = key.sign(content);
}

ProvenanceRecord makeProvenanceRecord(const SigningKey& producer, ProvenanceRecord::Event event,
                                      std::vector<std::string> parents, const Digest& payloadHash,
                                      std::string job, std::uint64_t timestampMicros) {
  ProvenanceRecord r;
  r.event = event;
  r.parents = std::move(parents);
  r.payloadHash = event == ProvenanceRecord::Event::Drop ? Digest{} : payloadHash;
  r.job = std::move(job);
  r.timestampMicros = timestampMicros;
  r.seal(producer);
  return r;
}

ProvenanceRecord makeProvenanceRecord(const SigningKey& producer, ProvenanceRecord::Event event,
                                      std::vector<std::string> parents, const Bytes& payload,
                                      std::string job, std::uint64_t timestampMicros) {
  return makeProvenanceRecord(producer, event, std::move(parents), hash(payload), std::move(job),
                              timestampMicros);
}

namespace {

/// The event / parent rules and field limits (provenance.h); empty when the shape is right.
std::string shapeProblem(const ProvenanceRecord& r) {
  using Event = ProvenanceRecord::Event;
  const std::size_t n = r.parents.size();
  switch (r.event) {
  case Event::Create:
    if (n != 0) return "a create has no parents, this one has " + std::to_string(n);
    break;
  case Event::Join:
    if (n < 2) return "a join has at least 2 parents, this one has " + std::to_string(n);
    break;
  default:
    if (n != 1)
      return std::string("a ") + eventName(r.event) + " has exactly 1 parent, this one has " +
             std::to_string(n);
  }
  if (n > kMaxProvenanceParents)
    return "more than " + std::to_string(kMaxProvenanceParents) + " parents";
  if (r.event == Event::Drop && r.payloadHash != Digest{})
    return "a drop carries no payload: its payload hash must be zero";
  if (r.job.empty() || r.job.size() > kMaxProvenanceText)
    return "the job is empty or longer than " + std::to_string(kMaxProvenanceText) + " bytes";
  if (r.producer.size() > kMaxProvenanceText) return "the producer is too long";
  std::unordered_set<std::string_view> seen;
  for (const auto& p : r.parents) {
    std::string why;
    if (!parseItemId(p, &why)) return "parent '" + p + "': " + why;
    if (!seen.insert(p).second) return "parent " + p + " is listed twice";
    if (p == r.itemId) return "the item is its own parent";
  }
  return {};
}

} // namespace

ProvenanceCheck verifyRecord(const ProvenanceRecord& r, std::string* detail) {
  auto fail = [&](ProvenanceCheck check, std::string why) {
    if (detail) *detail = std::move(why);
    return check;
  };
  if (std::string why = shapeProblem(r); !why.empty())
    return fail(ProvenanceCheck::Shape, std::move(why));
  std::string why;
  auto key = parseDidKey(r.producer, &why);
  if (!key) return fail(ProvenanceCheck::Producer, "producer '" + r.producer + "': " + why);
  Bytes content = r.signedBytes();
  std::string computed = itemIdOf(hash(content));
  if (computed != r.itemId)
    return fail(ProvenanceCheck::ItemId,
                "the content hashes to " + computed + ", not to the claimed id " + r.itemId);
  if (!verifySignature(*key, r.signature, content))
    return fail(ProvenanceCheck::Signature, "the signature does not verify with " + r.producer);
  if (detail) detail->clear();
  return ProvenanceCheck::Ok;
}

} // namespace flo::core
