/// \file
/// Deed code generation (see deeds.h).
#include "compiler/codegen/deeds.h"

namespace flo::codegen {

bool DeedEmitter::emitCall(llvm::Function* fn, const ir::DeedCall& call, std::string& error) {
  error = "deeds written in Flo ('" + p_.deeds.at(call.deed).name +
          "') are not supported by code generation yet";
  return false;
}

} // namespace flo::codegen
