package app

import (
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// demoCLIConfigFile is the config file the demo writes into its data
// folder for the command line: `notme mint --config DIR/cli.yaml …` then
// seals with the demo's token key, writes API keys and users into the
// demo's database, and mints links on the demo's own address. One flag is
// all the CLI needs, and it is printed with the logins.
const demoCLIConfigFile = "cli.yaml"

// demoCLIConfig is what of the demo's configuration the command line must
// share with it: where the data is (database and token key), the address
// links point at, and the message kinds it may mint.
type demoCLIConfig struct {
	DataDir string `yaml:"data_dir"`
	HTTP    struct {
		PublicURL string `yaml:"public_url"`
	} `yaml:"http"`
	Tokens struct {
		MessageIDDomain string `yaml:"message_id_domain,omitempty"`
	} `yaml:"tokens,omitempty"`
	Kinds map[string]KindConfig `yaml:"kinds"`
}

// writeDemoCLIConfig writes DIR/cli.yaml for cfg, the demo's resolved
// configuration, on every start (the address may change between starts),
// and returns its path.
func writeDemoCLIConfig(cfg Config) (string, error) {
	var c demoCLIConfig
	c.DataDir = cfg.DataDir
	c.HTTP.PublicURL = cfg.PublicURL()
	c.Tokens.MessageIDDomain = cfg.Tokens.MessageIDDomain
	c.Kinds = cfg.Kinds
	b, err := yaml.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("demo CLI config: %w", err)
	}
	path := filepath.Join(cfg.DataDir, demoCLIConfigFile)
	head := "# Written by `notme demo` at each start: give it to the command line so that\n" +
		"# it works on that demo's desk, e.g.\n" +
		"#   notme mint --config " + path + " --account ACC-1 --kind registration\n"
	if err := os.WriteFile(path, append([]byte(head), b...), 0o600); err != nil {
		return "", fmt.Errorf("write demo CLI config: %w", err)
	}
	return path, nil
}

// sameFile reports whether a and b name one existing file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
