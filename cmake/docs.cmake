# The man page and the bash completion, generated from the built binary's own --help
# (scripts/cli_help.py reads it), so neither can drift from the option tables of src/cli/.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(SCDOC scdoc REQUIRED)  # Debian package scdoc: the man page's markup to roff

set(TRAFSTAT_MANPAGE ${CMAKE_BINARY_DIR}/trafstat.8)
add_custom_command(
  OUTPUT ${TRAFSTAT_MANPAGE} ${TRAFSTAT_MANPAGE}.gz
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/make_manpage.py --trafstat $<TARGET_FILE:trafstat>
          --exit-codes ${CMAKE_SOURCE_DIR}/docs/exit-codes.md --sections ${CMAKE_SOURCE_DIR}/dist/man/sections.scd
          --scdoc ${SCDOC} --output ${TRAFSTAT_MANPAGE}
  # Debian installs man pages compressed (gzip -9n: no name or time stamp, reproducible).
  COMMAND gzip -9nkf ${TRAFSTAT_MANPAGE}
  DEPENDS trafstat ${CMAKE_SOURCE_DIR}/scripts/make_manpage.py ${CMAKE_SOURCE_DIR}/scripts/cli_help.py
          ${CMAKE_SOURCE_DIR}/docs/exit-codes.md ${CMAKE_SOURCE_DIR}/dist/man/sections.scd
  COMMENT "Generating the man page trafstat.8 from trafstat --help"
  VERBATIM)
add_custom_target(manpage ALL DEPENDS ${TRAFSTAT_MANPAGE})

set(TRAFSTAT_COMPLETION ${CMAKE_BINARY_DIR}/trafstat.bash-completion)
add_custom_command(
  OUTPUT ${TRAFSTAT_COMPLETION}
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/make_completion.py --trafstat $<TARGET_FILE:trafstat>
          --output ${TRAFSTAT_COMPLETION}
  DEPENDS trafstat ${CMAKE_SOURCE_DIR}/scripts/make_completion.py ${CMAKE_SOURCE_DIR}/scripts/cli_help.py
  COMMENT "Generating the bash completion from trafstat --help"
  VERBATIM)
add_custom_target(completion ALL DEPENDS ${TRAFSTAT_COMPLETION})
