# Sourced by ./hearth, ./build and ci/test: hearth_plain copies stdin to stdout without ANSI
# colour codes (Maven 3.8 prints resets such as ESC[0m even in batch mode with colours off).
hearth_plain() {
  sed -u -e $'s/\x1b\\[[0-9;]*[A-Za-z]//g'
}
