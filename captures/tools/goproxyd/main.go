// goproxyd: a configurable GOPROXY test server (static tree, fault modes, optional sumdb).
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
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
	mode := flag.String("mode", "serve", "serve|404|410|500|hang|html|rst|goaway (html: a 200 text/html block page, as a web filter or captive portal answers; rst, goaway: .zip answers stop half-way with RST_STREAM INTERNAL_ERROR, or GOAWAY INTERNAL_ERROR and a closed connection; over HTTP/1 both just close)")
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
	auth := flag.String("auth", "", "require HTTP Basic credentials user:password (401 with WWW-Authenticate otherwise)")
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
				rec := map[string]any{"ts": start.UnixNano(), "path": r.URL.Path, "status": status, "dur_us": time.Since(start).Microseconds(),
					"addr": *addr, "remote": r.RemoteAddr, "method": r.Method, "proto": r.Proto, "ua": r.UserAgent(), "uri": r.RequestURI}
				if u, _, ok := r.BasicAuth(); ok {
					rec["user"] = u // the user name only, never the password
				}
				b, _ := json.Marshal(rec)
				lw.Write(append(b, '\n'))
				mu.Unlock()
			}
		}()
		if *delay > 0 {
			time.Sleep(*delay)
		}
		p := r.URL.Path
		if *auth != "" {
			u, pw, ok := r.BasicAuth()
			if !ok || u+":"+pw != *auth {
				status = 401
				w.Header().Set("WWW-Authenticate", `Basic realm="modules"`)
				http.Error(w, "unauthorized", status)
				return
			}
		}
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
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<html><head><title>Access denied</title></head><body><h1>This site is blocked by the network policy</h1></body></html>\n"))
			return
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
		if (*mode == "rst" || *mode == "goaway") && strings.HasSuffix(p, ".zip") {
			cutZip(w, r, data, *mode)
			return
		}
		w.Write(data)
	})
	// The goaway mode writes a frame on the raw connection, which handlers cannot reach.
	srv := &http.Server{Addr: *addr, Handler: h, ConnContext: func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}}
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

type connKey struct{}

// cutZip sends half of a zip and then fails the transfer the way real proxies have
// (docs/goproxy-protocol.md §5.2): "rst" panics with http.ErrAbortHandler, which the HTTP/2
// server answers with RST_STREAM INTERNAL_ERROR; "goaway" writes a GOAWAY frame
// (INTERNAL_ERROR, last stream id 2^31-1 so the client does not retry elsewhere) on the
// raw connection and closes it. Over HTTP/1 both end in a closed connection.
func cutZip(w http.ResponseWriter, r *http.Request, data []byte, mode string) {
	w.Header().Set("Content-Length", fmt.Sprint(len(data)))
	w.Write(data[:len(data)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if mode == "goaway" && r.ProtoMajor == 2 {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			debug := []byte("goproxyd -mode goaway")
			frame := make([]byte, 9+8+len(debug))
			n := 8 + len(debug)
			frame[0], frame[1], frame[2] = byte(n>>16), byte(n>>8), byte(n)
			frame[3] = 0x7 // GOAWAY, stream 0
			binary.BigEndian.PutUint32(frame[9:], 0x7fffffff)
			binary.BigEndian.PutUint32(frame[13:], 0x2) // INTERNAL_ERROR
			copy(frame[17:], debug)
			c.Write(frame)
			time.Sleep(50 * time.Millisecond)
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
