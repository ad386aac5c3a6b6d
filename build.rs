//! Link-time glue for native libraries that our dependencies leave out.

fn main() {
    // espeak-rs-sys builds espeak-ng against the system libsonic (Debian `libsonic-dev`, which
    // `make setup` installs so that cmake never tries to git-clone it) but does not link it.
    println!("cargo:rustc-link-lib=dylib=sonic");
    println!("cargo:rerun-if-changed=build.rs");
    // `sqlx::migrate!` embeds migrations/ into the binary: rebuild when a migration changes.
    println!("cargo:rerun-if-changed=migrations");
}
