//! Throughput of the rational resampler at the rates a radio recording needs:
//! 25 -> 20 MS/s (4/5), 10 -> 20 MS/s (2/1) and 30.72 -> 20 MS/s (125/192).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use m4sc::phy::Complex32;
use m4sc::resample::RationalResampler;

fn bench(c: &mut Criterion) {
    let x: Vec<Complex32> = (0..1 << 18)
        .map(|i| Complex32::new((i as f32 * 0.01).sin(), (i as f32 * 0.013).cos()))
        .collect();
    let mut group = c.benchmark_group("rational_resampler");
    group.throughput(Throughput::Elements(x.len() as u64));
    for (l, m) in [(4u32, 5u32), (2, 1), (125, 192)] {
        group.bench_function(format!("{l}_{m}"), |b| {
            let mut r = RationalResampler::new(l, m);
            let mut out = Vec::with_capacity(x.len() * 2);
            b.iter(|| {
                out.clear();
                r.process(&x, &mut out);
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
