# benches/targets.sh — sourced by the benchmark scripts that state targets, so that a missed
# target shows in their exit status, not only in what they print.
#
#   target NAME MEASURED OP LIMIT [UNIT]   OP is <= or >=; prints one line, met or MISSED
#   target_unmeasured NAME WHY             a target that could not be measured counts as missed
#   targets_exit                           prints the tally; exits 3 if any was missed
#
# Exit status 3 (not 1) lets a caller tell "measured, and short of a target" from a failure
# of the benchmark itself (1) or bad usage (2).
TARGETS_MET=0
TARGETS_MISSED=()

target() {
    local name=$1 measured=$2 op=$3 limit=$4 unit=${5:-} ok
    case $op in
        '<=') ok=$(awk -v m="$measured" -v l="$limit" 'BEGIN { print (m + 0 <= l + 0) }') ;;
        '>=') ok=$(awk -v m="$measured" -v l="$limit" 'BEGIN { print (m + 0 >= l + 0) }') ;;
        *) echo "targets.sh: unknown comparison '$op' for $name" >&2; exit 2 ;;
    esac
    # Not a number: not measured.
    [[ $measured =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || ok=0
    if [ "$ok" = 1 ]; then
        TARGETS_MET=$((TARGETS_MET + 1))
        printf 'target:  %-36s %s%s (%s %s%s): met\n' "$name" "$measured" "${unit:+ $unit}" "$op" "$limit" "${unit:+ $unit}"
    else
        TARGETS_MISSED+=("$name")
        printf 'target:  %-36s %s%s (%s %s%s): MISSED\n' "$name" "$measured" "${unit:+ $unit}" "$op" "$limit" "${unit:+ $unit}"
    fi
}

target_unmeasured() {
    TARGETS_MISSED+=("$1")
    printf 'target:  %-36s not measured (%s): MISSED\n' "$1" "$2"
}

targets_exit() {
    local n=${#TARGETS_MISSED[@]}
    if [ "$n" -gt 0 ]; then
        echo "targets: $TARGETS_MET met, $n missed: ${TARGETS_MISSED[*]}"
        exit 3
    fi
    echo "targets: all $TARGETS_MET met"
}
