//! Instructions per read of a SOAP answer by the compact reader, for callgrind: reads the
//! file given (Wooppay's create-invoice answer by default) N times.
//!
//! `valgrind --tool=callgrind target/release/examples/parse_answer FILE N` at two N; per read
//! = the difference of the totals divided by the difference of the N.
#![allow(missing_docs, clippy::unwrap_used, reason = "benchmark harness")]

use paybridge_core::xml::compact::Document;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap();
    let n: usize = args.next().unwrap().parse().unwrap();
    let text: String = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("<!--"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut elements = 0;
    for _ in 0..n {
        let doc = Document::parse(std::hint::black_box(&text)).unwrap();
        elements += std::hint::black_box(&doc)
            .root()
            .map_or(0, |r| r.children().count());
    }
    println!("{elements}");
}
