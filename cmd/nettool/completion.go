package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask nettool itself for candidates through urfave's
// hidden --generate-bash-completion flag; fish gets urfave's generated script.
const bashCompletion = `# bash completion for nettool; load with: source <(nettool completion bash)
_nettool_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" words
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _nettool_complete nettool
`

const zshCompletion = `#compdef nettool
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
`

func init() {
	registerCommand(910, func(e *appEnv) *cli.Command {
		return &cli.Command{
			Name:      "completion",
			Usage:     "print a shell completion script: bash, zsh or fish",
			ArgsUsage: "bash|zsh|fish",
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usageErrorf("want one shell: bash, zsh or fish")
				}
				return writeCompletion(c.App, c.Args().First(), e.stdout)
			},
		}
	})
}

func writeCompletion(app *cli.App, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		_, err := io.WriteString(w, bashCompletion)
		return err
	case "zsh":
		_, err := io.WriteString(w, zshCompletion)
		return err
	case "fish":
		s, err := app.ToFishCompletion()
		if err != nil {
			return err
		}
		_, err = fmt.Fprint(w, s)
		return err
	}
	return usageErrorf("unknown shell %q (want bash, zsh or fish)", shell)
}
