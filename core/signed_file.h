/// \file
/// Detached signatures: a canonical "signature" record that carries the signer's DID, its key
/// event log, the signing key, the content digest and the Ed25519 signature, so a verifier needs
/// nothing else. A signature is valid only if the log verifies and the key is the DID's current
/// key — in the newest log the verifier knows for that DID.
#pragma once

#include "core/identity.h"

#include <functional>
#include <optional>
#include <string>

namespace flo::core {

/// The signature record of `content` by `signer`'s current key.
Bytes signDetached(const Identity& signer, const Bytes& content);

struct Verification {
  bool valid = false;
  std::string did;    ///< the signer, when the record could be read
  std::string reason; ///< why it is not valid
  std::uint64_t keySequence = 0;
};

/// Finds the newest key event log the verifier holds for a DID (its own keystore, a relay...).
using LogLookup = std::function<std::optional<std::vector<KeyEvent>>(const std::string& did)>;

Verification verifyDetached(const Bytes& content, const Bytes& signatureRecord,
                            const LogLookup& lookup = {});

} // namespace flo::core
