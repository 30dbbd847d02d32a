//! Writes the seeds of every fuzz target (`punchlist::testkit::fuzz::SEEDS`, the same ones
//! the proptest stand-in mutates) into `fuzz/corpus/<target>/seed-<n>`, where
//! `cargo fuzz run <target>` starts from:
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example seed_corpus
//! ```

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (target, seeds) in punchlist::testkit::fuzz::SEEDS {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir)?;
        for (n, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n}")), seed)?;
        }
    }
    Ok(())
}
