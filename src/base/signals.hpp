// SIGINT/SIGTERM end a run cleanly: the loops poll stop_requested() and the
// report is printed before exit. A closed stdout (SIGPIPE) shows up as EPIPE.
#pragma once

namespace trafstat {

void install_stop_handlers();
bool stop_requested();
// SIGHUP stops a run too (the terminal of --tui went away).
void install_hangup_handler();

}  // namespace trafstat
