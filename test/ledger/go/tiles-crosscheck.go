// Cross-check of the ledger's C2SP tiles with the Go team's golang.org/x/mod/sumdb/tlog
// (Debian golang-golang-x-mod-dev; run with GO111MODULE=off GOPATH=/usr/share/gocode).
// Driven by test/ledger/store/tiles.test.ts: reads one JSON request on stdin, fetches
// tiles over HTTP from the gateway's /ledger/tile/ through tlog.TileHashReader (which
// checks every tile it reads against the given root), and writes one JSON answer.
//
//	{"base":"http://…/ledger/","size":N,"root":"<base64>","indexes":[i,…]}
//	  → {"treeHash":"<base64>","leafHashes":["<base64>",…],"fetched":["tile/…",…]} or {"error":"…"}
//
// Go names a tile tile/<H>/<L>/<N>[.p/<W>]; tlog-tiles drops the height (always 8):
// tile/<L>/<N>[.p/<W>]. That is the only mapping.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Base    string  `json:"base"`
	Size    int64   `json:"size"`
	Root    string  `json:"root"`
	Indexes []int64 `json:"indexes"`
}

type answer struct {
	TreeHash   string   `json:"treeHash,omitempty"`
	LeafHashes []string `json:"leafHashes,omitempty"`
	Fetched    []string `json:"fetched,omitempty"`
	Error      string   `json:"error,omitempty"`
}

type httpTiles struct {
	base    string
	fetched []string
}

func (r *httpTiles) Height() int { return 8 }

func (r *httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := "tile/" + strings.TrimPrefix(t.Path(), "tile/8/")
		r.fetched = append(r.fetched, path)
		res, err := http.Get(r.base + path)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, err
		}
		if res.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: HTTP %d", path, res.StatusCode)
		}
		out[i] = body
	}
	return out, nil
}

func (r *httpTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func run(req request) answer {
	raw, err := base64.StdEncoding.DecodeString(req.Root)
	if err != nil || len(raw) != tlog.HashSize {
		return answer{Error: "bad root"}
	}
	var root tlog.Hash
	copy(root[:], raw)
	tiles := &httpTiles{base: req.Base}
	hr := tlog.TileHashReader(tlog.Tree{N: req.Size, Hash: root}, tiles)
	th, err := tlog.TreeHash(req.Size, hr)
	if err != nil {
		return answer{Error: err.Error(), Fetched: tiles.fetched}
	}
	ans := answer{TreeHash: base64.StdEncoding.EncodeToString(th[:])}
	for _, i := range req.Indexes {
		hashes, err := hr.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
		if err != nil {
			return answer{Error: err.Error(), Fetched: tiles.fetched}
		}
		proof, err := tlog.ProveRecord(req.Size, i, hr)
		if err != nil {
			return answer{Error: err.Error(), Fetched: tiles.fetched}
		}
		if err := tlog.CheckRecord(proof, req.Size, root, i, hashes[0]); err != nil {
			return answer{Error: err.Error(), Fetched: tiles.fetched}
		}
		ans.LeafHashes = append(ans.LeafHashes, base64.StdEncoding.EncodeToString(hashes[0][:]))
	}
	ans.Fetched = tiles.fetched
	return ans
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	json.NewEncoder(os.Stdout).Encode(run(req))
}
