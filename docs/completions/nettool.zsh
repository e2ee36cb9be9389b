#compdef nettool
# zsh completion for nettool; load with: source <(nettool completion zsh)
_nettool() {
  local -a cands
  local cur="${words[CURRENT]}"
  if [[ "$cur" == -* ]]; then
    cands=("${(@f)$(${words[1,CURRENT-1]} "$cur" --generate-bash-completion 2>/dev/null)}")
  else
    cands=("${(@f)$(${words[1,CURRENT-1]} --generate-bash-completion 2>/dev/null)}")
  fi
  compadd -a cands
}
if (( $+functions[compdef] )); then compdef _nettool nettool; fi
