#!/bin/bash
# User run script for VOTCA-CSG 2022 with GROMACS >= 2020 (written by deepilst).
# GROMACS 2020+ has no tabulated non-bonded potentials (no group cut-off scheme), so the
# current LJ parameters go into topol.top as plain C6/C12 (comb-rule 1) and VOTCA's own
# run_gromacs.sh runs grompp and mdrun. Where the parameters come from:
#   method re:        <name>.param.cur (lines "0 C12 i" and "1 C6 i", lj126)
#   method optimizer: the 'active' line of <type>.state.cur (sig eps ...), C12 = 4 eps sig^12,
#                     C6 = 4 eps sig^6
if [[ $1 = "--help" ]]; then
  echo "${0##*/}: put the current LJ C12/C6 into topol.top (from topol.top.tmpl), then run_gromacs.sh"
  exit 0
fi
name=CG-CG
method="$(csg_get_property cg.inverse.method)"
if [[ $method = re ]]; then
  [[ -f ${name}.param.cur ]] || die "${0##*/}: no ${name}.param.cur"
  c12=$(awk '!/^[#@]/ && NF>=2 && $1+0==0 {print $2}' ${name}.param.cur)
  c6=$(awk '!/^[#@]/ && NF>=2 && $1+0==1 {print $2}' ${name}.param.cur)
elif [[ $method = optimizer ]]; then
  otype="$(csg_get_property cg.inverse.optimizer.type)"
  [[ -f ${otype}.state.cur ]] || die "${0##*/}: no ${otype}.state.cur"
  line=$(sed -n '/active$/p' ${otype}.state.cur | head -1)
  [[ -n $line ]] || die "${0##*/}: no active line in ${otype}.state.cur"
  read -r sig eps rest <<< "$line"
  c12=$(awk -v s="$sig" -v e="$eps" 'BEGIN{printf "%.8e", 4*e*s^12}')
  c6=$(awk -v s="$sig" -v e="$eps" 'BEGIN{printf "%.8e", 4*e*s^6}')
  echo "${0##*/}: sig=$sig eps=$eps"
else
  die "${0##*/}: method '$method' is not re or optimizer"
fi
[[ -n $c12 && -n $c6 ]] || die "${0##*/}: could not read C12/C6"
# a 12-6 potential with C12 <= 0 or C6 <= 0 is no fluid of beads: stop here, say why
awk -v a="$c12" -v b="$c6" 'BEGIN{exit !(a > 0 && b > 0)}' || \
  die "${0##*/}: unphysical LJ parameters C12=$c12 C6=$c6 (both must be positive)"
echo "${0##*/}: C12=$c12 C6=$c6"
echo "$c12 $c6" > lj_params.cur
critical sed -e "s/@C6@/$c6/" -e "s/@C12@/$c12/" topol.top.tmpl > topol.top
exec "$(find_in_csgshare run_gromacs.sh)" "$@"
