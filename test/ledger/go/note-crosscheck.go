// Cross-check of the ledger's signed notes with the Go team's golang.org/x/mod/sumdb/note
// (Debian golang-golang-x-mod-dev; run with GO111MODULE=off GOPATH=/usr/share/gocode).
// Driven by test/ledger/core/go-sumdb.test.ts: reads one JSON request on stdin, writes
// one JSON answer on stdout.
//
//	{"op":"open","note":"…","verifiers":["name+id+key",…]}
//	  → {"text":"…","sigs":[{"name","hash"}],"unverified":[…]} or {"error":"…"}
//	{"op":"sign","text":"…","signers":["PRIVATE+KEY+…",…]}
//	  → {"note":"…"}
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/note"
)

type request struct {
	Op        string   `json:"op"`
	Note      string   `json:"note"`
	Text      string   `json:"text"`
	Verifiers []string `json:"verifiers"`
	Signers   []string `json:"signers"`
}

type sig struct {
	Name string `json:"name"`
	Hash string `json:"hash"`
}

func sigs(list []note.Signature) []sig {
	out := []sig{}
	for _, s := range list {
		out = append(out, sig{s.Name, fmt.Sprintf("%08x", s.Hash)})
	}
	return out
}

func answer(v interface{}) {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		os.Exit(2)
	}
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		answer(map[string]string{"error": err.Error()})
		return
	}
	switch req.Op {
	case "open":
		var vs []note.Verifier
		for _, k := range req.Verifiers {
			v, err := note.NewVerifier(k)
			if err != nil {
				answer(map[string]string{"error": err.Error()})
				return
			}
			vs = append(vs, v)
		}
		n, err := note.Open([]byte(req.Note), note.VerifierList(vs...))
		if err != nil {
			answer(map[string]string{"error": err.Error()})
			return
		}
		answer(map[string]interface{}{"text": n.Text, "sigs": sigs(n.Sigs), "unverified": sigs(n.UnverifiedSigs)})
	case "sign":
		var ss []note.Signer
		for _, k := range req.Signers {
			s, err := note.NewSigner(k)
			if err != nil {
				answer(map[string]string{"error": err.Error()})
				return
			}
			ss = append(ss, s)
		}
		msg, err := note.Sign(&note.Note{Text: req.Text}, ss...)
		if err != nil {
			answer(map[string]string{"error": err.Error()})
			return
		}
		answer(map[string]string{"note": string(msg)})
	default:
		answer(map[string]string{"error": "unknown op"})
	}
}
