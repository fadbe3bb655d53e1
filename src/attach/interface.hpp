// Moved to net/interface.hpp. Kept only for attach/xdp.hpp, attach/tc.hpp and
// app/live.cpp, which are being rewritten elsewhere: delete it once they
// include net/interface.hpp.
#pragma once

#include "net/interface.hpp"
