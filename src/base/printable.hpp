// Names from outside (file names, interface names, option values) made safe to
// put in a message: a failure is one line on stderr (docs/exit-codes.md), so a
// newline or a terminal escape in a name must not split or recolour it.
#pragma once

#include <string>
#include <string_view>

namespace trafstat {

// `text` with its control characters written as C escapes: "\n", "\t", "\r",
// else "\xHH" (ESC is "\x1b", DEL "\x7f"). Everything else, UTF-8 included,
// is kept; a backslash is kept too, so printable(printable(s)) == printable(s).
std::string printable(std::string_view text);

}  // namespace trafstat
