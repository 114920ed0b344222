// goproxyd: a configurable GOPROXY test server (static tree, fault modes, optional sumdb).
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	root := flag.String("root", "", "static GOPROXY tree")
	mode := flag.String("mode", "serve", "serve|404|410|500|hang")
	only := flag.String("only", "", "comma list of module path prefixes to serve; others get -miss status")
	miss := flag.Int("miss", 404, "status for modules outside -only")
	delay := flag.Duration("delay", 0, "delay before each response")
	cert := flag.String("cert", "", "TLS cert")
	key := flag.String("key", "", "TLS key")
	sumName := flag.String("sumdb", "", "serve a checksum database with this name (key written to -sumkey)")
	sumKey := flag.String("sumkey", "", "file to write the sumdb verifier key")
	logf := flag.String("log", "", "JSONL request log")
	keylog := flag.String("keylog", "", "with -cert/-key: append TLS session secrets (NSS key log format) to this file")
	prefix := flag.String("prefix", "", "serve the tree under this path prefix (a proxy mounted at /goproxy)")
	redirect := flag.String("redirect", "", "answer .zip requests with 302 to this base URL + the same path (storage behind a proxy)")
	tlsMax := flag.String("tls-max", "", "with -cert/-key: highest TLS version to offer, 1.2 or 1.3 (default: Go's, 1.3)")
	flag.Parse()

	var mu sync.Mutex
	var lw *os.File
	if *logf != "" {
		lw, _ = os.Create(*logf)
	}
	var sumHandler http.Handler
	if *sumName != "" {
		skey, vkey, err := note.GenerateKey(nil, *sumName)
		if err != nil {
			log.Fatal(err)
		}
		os.WriteFile(*sumKey, []byte(vkey), 0o644)
		sums := map[string]string{}
		f, _ := os.Open(filepath.Join(*root, "go.sum.expected"))
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) == 3 {
				k := fs[0] + " " + strings.TrimSuffix(fs[1], "/go.mod")
				sums[k] += sc.Text() + "\n"
			}
		}
		ts := sumdb.NewTestServer(skey, func(path, vers string) ([]byte, error) {
			s, ok := sums[path+" "+vers]
			if !ok {
				return nil, os.ErrNotExist
			}
			return []byte(s), nil
		})
		sumHandler = sumdb.NewServer(ts)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := 200
		defer func() {
			if lw != nil {
				mu.Lock()
				b, _ := json.Marshal(map[string]any{"ts": start.UnixNano(), "path": r.URL.Path, "status": status, "dur_us": time.Since(start).Microseconds(),
					"addr": *addr, "remote": r.RemoteAddr, "method": r.Method, "proto": r.Proto, "ua": r.UserAgent(), "uri": r.RequestURI})
				lw.Write(append(b, '\n'))
				mu.Unlock()
			}
		}()
		if *delay > 0 {
			time.Sleep(*delay)
		}
		p := r.URL.Path
		if *prefix != "" {
			if !strings.HasPrefix(p, *prefix+"/") {
				status = 404
				http.Error(w, "not under "+*prefix, status)
				return
			}
			p = strings.TrimPrefix(p, *prefix)
		}
		if *redirect != "" && strings.HasSuffix(p, ".zip") {
			status = http.StatusFound
			http.Redirect(w, r, *redirect+strings.TrimPrefix(r.URL.EscapedPath(), *prefix), status)
			return
		}
		if sumHandler != nil {
			pre := "/sumdb/" + *sumName
			if p == pre+"/supported" {
				return
			}
			if strings.HasPrefix(p, pre+"/") {
				r2 := r.Clone(r.Context())
				r2.URL.Path = strings.TrimPrefix(p, pre)
				sumHandler.ServeHTTP(w, r2)
				return
			}
			if strings.HasPrefix(p, "/lookup/") || strings.HasPrefix(p, "/tile/") || p == "/latest" {
				sumHandler.ServeHTTP(w, r)
				return
			}
		}
		switch *mode {
		case "404", "410", "500":
			status = map[string]int{"404": 404, "410": 410, "500": 500}[*mode]
			http.Error(w, "not found: "+*mode, status)
			return
		case "hang":
			time.Sleep(time.Hour)
		}
		if *only != "" {
			mod := p
			if i := strings.Index(p, "/@"); i > 0 {
				mod = p[1:i]
			}
			dec, _ := module.UnescapePath(mod)
			ok := false
			for _, o := range strings.Split(*only, ",") {
				if strings.HasPrefix(dec, o) {
					ok = true
				}
			}
			if !ok {
				status = *miss
				http.Error(w, "not served here", status)
				return
			}
		}
		file := filepath.Join(*root, filepath.FromSlash(p))
		data, err := os.ReadFile(file)
		if err != nil {
			status = 404
			http.Error(w, "not found", 404)
			return
		}
		w.Write(data)
	})
	srv := &http.Server{Addr: *addr, Handler: h}
	if *cert != "" {
		if *keylog != "" {
			kw, err := os.OpenFile(*keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				log.Fatal(err)
			}
			srv.TLSConfig = &tls.Config{KeyLogWriter: kw}
		}
		if *tlsMax != "" {
			v, ok := map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}[*tlsMax]
			if !ok {
				log.Fatalf("-tls-max %q: want 1.2 or 1.3", *tlsMax)
			}
			if srv.TLSConfig == nil {
				srv.TLSConfig = &tls.Config{}
			}
			srv.TLSConfig.MaxVersion = v
		}
		log.Fatal(srv.ListenAndServeTLS(*cert, *key))
	}
	log.Fatal(srv.ListenAndServe())
}
