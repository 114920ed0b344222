# Homebrew formula for gomodwatch. NOT RUN HERE: the project's machines and CI are Linux
# without Homebrew, so this file is untested; `brew install --build-from-source
# ./contrib/gomodwatch.rb` on a Mac is how to try it. It builds from a clone (set `url` to
# a release tarball and `sha256` to its digest to publish it in a tap), against the libpcap
# in Xcode's command-line tools SDK, and installs the man page and the completions the
# binary generates. REPO is a placeholder: the repository has no public address recorded
# here; set it to the clone URL before use.
REPO = "https://git.example.invalid/gomodwatch.git".freeze

class Gomodwatch < Formula
  desc "Watch Go module downloads on the wire and explain them"
  homepage REPO.delete_suffix(".git")
  url REPO, branch: "main"
  version "0.1.0"
  license any_of: ["MIT", "Apache-2.0"]
  head REPO, branch: "main"

  depends_on "rust" => :build
  uses_from_macos "libpcap"

  on_linux do
    depends_on "pkg-config" => :build
    depends_on "libpcap"
  end

  def install
    system "cargo", "install", "--locked", *std_cargo_args
    (buildpath/"gomodwatch.1").write Utils.safe_popen_read(bin/"gomodwatch", "man")
    man1.install "gomodwatch.1"
    generate_completions_from_executable(bin/"gomodwatch", "completions")
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/gomodwatch --version")
    # A usage error is one line and exit status 2.
    output = shell_output("#{bin}/gomodwatch --slo 0 2>&1", 2)
    assert_equal 1, output.lines.count
  end
end
