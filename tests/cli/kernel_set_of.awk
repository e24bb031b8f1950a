# The kernel set of a function in `objdump -d` output, by its name (docs/dispatch.md): the namespace
# lastrank::cpu::<set>:: mangled _ZN8lastrank3cpu<len><set>... (also _ZNK / _ZZN for const members
# and lambdas), or a kernel-set object's local copies named kernel_set.<set>.*
# (cmake/localize_kernel_set.cmake); "baseline" for everything else. Shared by tests/cli/isa_leak.sh
# and tests/cli/isa_leak_aarch64.sh, which say which sets they know.

# The function name of a disassembly header line "0000000000401000 <name>:".
function function_name(line,   fn) {
  fn = substr(line, index(line, "<") + 1)
  return substr(fn, 1, length(fn) - 2)
}

function kernel_set_of(fn,   rest, len, set) {
  set = "baseline"
  if (match(fn, /^_Z[NKZ]+8lastrank3cpu[0-9]+/)) {
    rest = substr(fn, RLENGTH + 1); len = substr(fn, RSTART, RLENGTH); sub(/^_Z[NKZ]+8lastrank3cpu/, "", len)
    set = substr(rest, 1, len + 0)
  } else if (fn ~ /^kernel_set\./) {
    set = substr(fn, 12); set = substr(set, 1, index(set, ".") - 1)
  }
  return set
}
