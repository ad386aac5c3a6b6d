//! Our G.711 codec gives the same bytes and samples as sox (an independent implementation).

use std::path::Path;
use std::process::Command;

use hotline::audio::g711::Law;

fn sox(args: &[&str]) {
    let status = Command::new("sox")
        .args(args)
        .status()
        .expect("sox is installed by `make setup`");
    assert!(status.success(), "sox {args:?} failed");
}

fn write_i16(path: &Path, samples: &[i16]) {
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn read_i16(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

#[test]
fn encode_and_decode_match_sox_for_every_code_and_a_sweep_of_samples() {
    let dir = tempfile::tempdir().unwrap();
    let linear: Vec<i16> = (i16::MIN..=i16::MAX).step_by(3).collect();
    let pcm = dir.path().join("in.s16");
    write_i16(&pcm, &linear);
    for (law, encoding) in [(Law::MuLaw, "u-law"), (Law::ALaw, "a-law")] {
        let coded = dir.path().join(format!("{encoding}.raw"));
        // -D: no dither, so sox quantises exactly.
        sox(&[
            "-D",
            "-t",
            "raw",
            "-r",
            "8000",
            "-e",
            "signed",
            "-b",
            "16",
            "-c",
            "1",
            pcm.to_str().unwrap(),
            "-t",
            "raw",
            "-e",
            encoding,
            "-b",
            "8",
            coded.to_str().unwrap(),
        ]);
        let theirs = std::fs::read(&coded).unwrap();
        let ours: Vec<u8> = linear.iter().map(|&s| law.encode(s)).collect();
        assert_eq!(ours.len(), theirs.len());
        let differ = ours.iter().zip(&theirs).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "{encoding}: {differ} of {} codes differ from sox",
            ours.len()
        );

        let all_codes: Vec<u8> = (0..=255).collect();
        let codes = dir.path().join(format!("{encoding}-codes.raw"));
        std::fs::write(&codes, &all_codes).unwrap();
        let decoded = dir.path().join(format!("{encoding}-decoded.s16"));
        sox(&[
            "-D",
            "-t",
            "raw",
            "-r",
            "8000",
            "-e",
            encoding,
            "-b",
            "8",
            "-c",
            "1",
            codes.to_str().unwrap(),
            "-t",
            "raw",
            "-e",
            "signed",
            "-b",
            "16",
            decoded.to_str().unwrap(),
        ]);
        let theirs = read_i16(&decoded);
        let ours: Vec<i16> = all_codes.iter().map(|&c| law.decode(c)).collect();
        assert_eq!(ours, theirs, "{encoding} decode table differs from sox");
    }
}
