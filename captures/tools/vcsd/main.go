// vcsd: a test "code host" for direct-mode module fetches (GOPROXY=direct, GONOPROXY, GOPRIVATE).
//
// One server, any number of host names (the Host header picks the import path):
//   - GET /<path>?go-get=1 answers an HTML page with <meta name="go-import"> (and go-source) when a
//     -meta rule matches host+path (the rule's key equals it or is a path-element prefix of it);
//     anything else with ?go-get=1 gets 404 and a page without meta tags;
//   - every other request is git smart HTTP, served by running git http-backend as a CGI program
//     (net/http/cgi) with GIT_PROJECT_ROOT=-repos and GIT_HTTP_EXPORT_ALL;
//   - -auth REPO=USER:PASSWORD requires HTTP Basic credentials for /REPO and everything below it
//     (401 with WWW-Authenticate: Basic realm="git" otherwise).
//
// Every request is logged as one JSON line (-log), in goproxyd's format plus host, kind (go-get, git,
// auth, other), bytes (response body bytes), git_protocol (the Git-Protocol header), req_type (the
// request's Content-Type), req_encoding (its Content-Encoding) and user (the Basic user name of any
// request that carries credentials).
// Standard library only (build: GO111MODULE=off go build ./vcsd).
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, "; ") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:443", "listen address")
	repos := flag.String("repos", "", "directory of bare git repositories (GIT_PROJECT_ROOT)")
	backend := flag.String("backend", "/usr/lib/git-core/git-http-backend", "git http-backend executable")
	cert := flag.String("cert", "", "TLS cert (https)")
	key := flag.String("key", "", "TLS key")
	keylog := flag.String("keylog", "", "with -cert/-key: append TLS session secrets (NSS key log format) to this file")
	logf := flag.String("log", "", "JSONL request log")
	noH2 := flag.Bool("no-h2", false, "with -cert/-key: do not offer HTTP/2 (ALPN http/1.1 only)")
	var metas, auths multi
	flag.Var(&metas, "meta", "IMPORT-PATH=CONTENT: answer ?go-get=1 for IMPORT-PATH (and paths below it) with <meta name=\"go-import\" content=\"CONTENT\"> (repeatable)")
	flag.Var(&auths, "auth", "REPO=USER:PASSWORD: require HTTP Basic credentials for /REPO and below (repeatable)")
	flag.Parse()

	metaFor := map[string]string{}
	var metaKeys []string
	for _, m := range metas {
		k, v, ok := strings.Cut(m, "=")
		if !ok {
			log.Fatalf("-meta %q: want IMPORT-PATH=CONTENT", m)
		}
		metaFor[k] = v
		metaKeys = append(metaKeys, k)
	}
	// longest key first, so that the most specific rule wins
	sort.Slice(metaKeys, func(i, j int) bool { return len(metaKeys[i]) > len(metaKeys[j]) })
	type cred struct{ prefix, user, pass string }
	var creds []cred
	for _, a := range auths {
		repo, up, ok1 := strings.Cut(a, "=")
		u, p, ok2 := strings.Cut(up, ":")
		if !ok1 || !ok2 {
			log.Fatalf("-auth %q: want REPO=USER:PASSWORD", a)
		}
		creds = append(creds, cred{"/" + strings.Trim(repo, "/"), u, p})
	}

	var mu sync.Mutex
	var lw *os.File
	if *logf != "" {
		var err error
		if lw, err = os.Create(*logf); err != nil {
			log.Fatal(err)
		}
	}
	env := []string{"GIT_PROJECT_ROOT=" + *repos, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1", "HOME=" + *repos}
	git := &cgi.Handler{Path: *backend, Root: "/", Env: env, Stderr: os.Stderr}

	h := http.HandlerFunc(func(w0 http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &recorder{ResponseWriter: w0}
		kind := "git"
		user, _, _ := r.BasicAuth() // logged for any request that carries credentials
		defer func() {
			if lw == nil {
				return
			}
			if w.status == 0 {
				w.status = 200
			}
			rec := map[string]any{"ts": start.UnixNano(), "path": r.URL.Path, "status": w.status,
				"dur_us": time.Since(start).Microseconds(), "addr": *addr, "remote": r.RemoteAddr,
				"method": r.Method, "proto": r.Proto, "ua": r.UserAgent(), "uri": r.RequestURI,
				"host": r.Host, "kind": kind, "bytes": w.bytes}
			if v := r.Header.Get("Git-Protocol"); v != "" {
				rec["git_protocol"] = v
			}
			if v := r.Header.Get("Content-Type"); v != "" {
				rec["req_type"] = v
			}
			if v := r.Header.Get("Content-Encoding"); v != "" {
				rec["req_encoding"] = v
			}
			if user != "" {
				rec["user"] = user
			}
			b, _ := json.Marshal(rec)
			mu.Lock()
			lw.Write(append(b, '\n'))
			mu.Unlock()
		}()
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if r.URL.Query().Get("go-get") == "1" {
			kind = "go-get"
			ip := host + strings.TrimSuffix(r.URL.Path, "/")
			for _, k := range metaKeys {
				if ip == k || strings.HasPrefix(ip, k+"/") {
					content := metaFor[k]
					w.Header().Set("Content-Type", "text/html; charset=utf-8")
					fmt.Fprintf(w, "<!DOCTYPE html>\n<html>\n<head>\n<meta name=\"go-import\" content=\"%s\">\n", html.EscapeString(content))
					if f := strings.Fields(content); len(f) == 3 && f[1] == "git" {
						web := strings.TrimSuffix(f[2], ".git")
						fmt.Fprintf(w, "<meta name=\"go-source\" content=\"%s %s %s/tree/main{/dir} %s/blob/main{/dir}/{file}#L{line}\">\n",
							html.EscapeString(f[0]), html.EscapeString(web), html.EscapeString(web), html.EscapeString(web))
					}
					fmt.Fprintf(w, "</head>\n<body>\ngo get %s\n</body>\n</html>\n", html.EscapeString(ip))
					return
				}
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>\nno repository for %s\n</body>\n</html>\n", html.EscapeString(ip))
			return
		}
		for _, c := range creds {
			if r.URL.Path == c.prefix || strings.HasPrefix(r.URL.Path, c.prefix+"/") {
				u, p, ok := r.BasicAuth()
				if !ok || u != c.user || p != c.pass {
					kind = "auth"
					w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
					http.Error(w, "authentication required", http.StatusUnauthorized)
					return
				}
				// git http-backend takes REMOTE_USER from the CGI environment (cgi.Handler sets
				// it from nothing); nothing here needs it (upload-pack only).
				break
			}
		}
		if *repos == "" {
			kind = "other"
			http.NotFound(w, r)
			return
		}
		git.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: *addr, Handler: h}
	if *cert != "" {
		srv.TLSConfig = &tls.Config{}
		if *keylog != "" {
			kw, err := os.OpenFile(*keylog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				log.Fatal(err)
			}
			srv.TLSConfig.KeyLogWriter = kw
		}
		if *noH2 {
			srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		}
		log.Fatal(srv.ListenAndServeTLS(*cert, *key))
	}
	log.Fatal(srv.ListenAndServe())
}
