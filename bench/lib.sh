# lib.sh: helpers shared by compare.sh and scaling.sh (sourced, not run).

# median prints the median of the numbers on stdin, one a line (nothing for
# no input).
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) exit; if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# jpegs_in DIR WHO: sets files to the JPEGs directly in DIR (names relative
# to it), largest first, and half1/half2 to them dealt alternately, so that
# two processes over the halves get about the same work. Exits (naming WHO)
# when there are none.
jpegs_in() {
  local i
  mapfile -t files < <(cd "$1" && find . -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -printf '%s %f\n' | sort -k1,1nr -k2 | cut -d' ' -f2-)
  [ ${#files[@]} -gt 0 ] || { echo "$2: no .jpg/.jpeg files in $1" >&2; exit 2; }
  half1=() half2=()
  for i in "${!files[@]}"; do
    if ((i % 2 == 0)); then half1+=("${files[i]}"); else half2+=("${files[i]}"); fi
  done
}
