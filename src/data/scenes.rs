//! Seeded synthetic scenes: 2-4 non-overlapping shapes (circle, square, triangle) in
//! 8 colours on a grey 64x64 canvas, with a caption and relational questions whose
//! answers follow from the drawn objects.
//!
//! Rules that make every caption and answer unambiguous:
//! - within a scene each (colour, shape) pair occurs at most once;
//! - object centres differ by at least `MIN_DX` pixels horizontally, so "left of"
//!   orders them strictly by centre x;
//! - bounding boxes are at least one pixel apart, so no two shapes touch;
//! - "what is left of the X?" names the object immediately left of X (the nearest one
//!   whose centre is to the left), and likewise for right.

use super::image_io::IMAGE_SIZE;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Canvas colour (no object uses it).
pub const BACKGROUND: [u8; 3] = [128, 128, 128];
/// The 8 object colours: name and RGB.
pub const COLOURS: [(&str, [u8; 3]); 8] = [
    ("red", [220, 30, 30]),
    ("green", [30, 170, 60]),
    ("blue", [40, 70, 230]),
    ("yellow", [240, 220, 30]),
    ("purple", [140, 50, 180]),
    ("orange", [250, 140, 20]),
    ("white", [250, 250, 250]),
    ("black", [15, 15, 15]),
];
/// Minimum horizontal distance between object centres, in pixels.
pub const MIN_DX: i32 = 3;

/// The phrase with its indefinite article: "a red circle", "an orange square".
pub fn with_article(phrase: &str) -> String {
    let vowel = phrase.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {phrase}", if vowel { "an" } else { "a" })
}

/// A shape kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::Circle, Shape::Square, Shape::Triangle];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
        }
    }
}

/// One drawn object: `colour` indexes `COLOURS`; centre and half-size in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SceneObject {
    pub shape: Shape,
    pub colour: usize,
    pub cx: i32,
    pub cy: i32,
    pub half_size: i32,
}

impl SceneObject {
    /// "red circle".
    pub fn name(&self) -> String {
        format!("{} {}", COLOURS[self.colour].0, self.shape.name())
    }

    /// Whether pixel (x, y) lies inside the shape. A circle is the disc of radius
    /// `half_size` about the centre; a square has side 2 * half_size + 1; a triangle
    /// points up, apex at (cx, cy - half_size), base on row cy + half_size spanning
    /// cx +- half_size.
    pub fn contains(&self, x: i32, y: i32) -> bool {
        let (dx, dy, r) = (x - self.cx, y - self.cy, self.half_size);
        match self.shape {
            Shape::Circle => dx * dx + dy * dy <= r * r,
            Shape::Square => dx.abs() <= r && dy.abs() <= r,
            // Half-width at row dy grows linearly from 0 at the apex to r at the base.
            Shape::Triangle => dy.abs() <= r && 2 * dx.abs() * r <= r * (dy + r),
        }
    }

    fn boxes_apart(&self, other: &SceneObject) -> bool {
        let gap = self.half_size + other.half_size + 1;
        (self.cx - other.cx).abs() > gap || (self.cy - other.cy).abs() > gap
    }
}

/// A generated scene: objects sorted left to right by centre x.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scene {
    pub objects: Vec<SceneObject>,
}

/// A question about a scene and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SceneQa {
    pub question: String,
    pub answer: String,
}

impl Scene {
    /// Draws a scene from `seed`; the same seed always gives the same scene.
    pub fn generate(seed: u64) -> Scene {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let size = IMAGE_SIZE as i32;
        loop {
            let n = rng.random_range(2..=4);
            let mut objects: Vec<SceneObject> = Vec::with_capacity(n);
            let mut attempts = 0;
            while objects.len() < n && attempts < 500 {
                attempts += 1;
                let half_size = rng.random_range(5..=9);
                let candidate = SceneObject {
                    shape: Shape::ALL[rng.random_range(0..3)],
                    colour: rng.random_range(0..COLOURS.len()),
                    cx: rng.random_range(half_size + 1..size - half_size - 1),
                    cy: rng.random_range(half_size + 1..size - half_size - 1),
                    half_size,
                };
                let fits = objects.iter().all(|o| {
                    o.boxes_apart(&candidate)
                        && (o.cx - candidate.cx).abs() >= MIN_DX
                        && (o.shape, o.colour) != (candidate.shape, candidate.colour)
                });
                if fits {
                    objects.push(candidate);
                }
            }
            if objects.len() == n {
                objects.sort_by_key(|o| o.cx);
                return Scene { objects };
            }
        }
    }

    /// The scene as a 64x64 RGB image.
    pub fn render(&self) -> RgbImage {
        let size = IMAGE_SIZE as u32;
        RgbImage::from_fn(size, size, |x, y| {
            let hit = self.objects.iter().find(|o| o.contains(x as i32, y as i32));
            Rgb(hit.map_or(BACKGROUND, |o| COLOURS[o.colour].1))
        })
    }

    /// "a red circle left of a blue square left of an orange triangle".
    pub fn caption(&self) -> String {
        let parts: Vec<String> = self
            .objects
            .iter()
            .map(|o| with_article(&o.name()))
            .collect();
        parts.join(" left of ")
    }

    /// Every question this module asks about the scene, in a fixed order:
    /// the count, left/right neighbours of each object, the colour of each shape that
    /// occurs once, the shape of each colour that occurs once, and "is there a ...?"
    /// for each object (yes) and for up to as many absent pairs (no), drawn with `seed`.
    pub fn questions(&self, seed: u64) -> Vec<SceneQa> {
        let qa = |question: String, answer: String| SceneQa { question, answer };
        let objs = &self.objects;
        let mut out = vec![qa(
            "how many shapes are there?".into(),
            objs.len().to_string(),
        )];
        for (i, o) in objs.iter().enumerate() {
            if i > 0 {
                let q = format!("what is left of the {}?", o.name());
                out.push(qa(q, objs[i - 1].name()));
            }
            if i + 1 < objs.len() {
                let q = format!("what is right of the {}?", o.name());
                out.push(qa(q, objs[i + 1].name()));
            }
        }
        for shape in Shape::ALL {
            let with: Vec<_> = objs.iter().filter(|o| o.shape == shape).collect();
            if let [o] = with.as_slice() {
                let q = format!("what color is the {}?", shape.name());
                out.push(qa(q, COLOURS[o.colour].0.into()));
            }
        }
        for (colour, (name, _)) in COLOURS.iter().enumerate() {
            let with: Vec<_> = objs.iter().filter(|o| o.colour == colour).collect();
            if let [o] = with.as_slice() {
                let q = format!("what shape is the {name} object?");
                out.push(qa(q, o.shape.name().into()));
            }
        }
        for o in objs {
            let q = format!("is there {}?", with_article(&o.name()));
            out.push(qa(q, "yes".into()));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut absent = 0;
        while absent < objs.len() {
            let shape = Shape::ALL[rng.random_range(0..3)];
            let colour = rng.random_range(0..COLOURS.len());
            if !objs.iter().any(|o| (o.shape, o.colour) == (shape, colour)) {
                let name = format!("{} {}", COLOURS[colour].0, shape.name());
                let q = format!("is there {}?", with_article(&name));
                out.push(qa(q, "no".into()));
                absent += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phrase without its article.
    fn strip(phrase: &str) -> &str {
        phrase.split_once(' ').unwrap().1
    }

    fn colour_named(name: &str) -> [u8; 3] {
        COLOURS.iter().find(|(n, _)| *n == name).unwrap().1
    }

    /// Number of 4-connected regions of non-background pixels.
    fn count_blobs(img: &RgbImage) -> usize {
        let mut seen = vec![false; 64 * 64];
        let mut blobs = 0;
        for start in 0..64 * 64 {
            if seen[start] || img.get_pixel(start as u32 % 64, start as u32 / 64).0 == BACKGROUND {
                continue;
            }
            blobs += 1;
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                let (x, y) = ((i % 64) as i32, (i / 64) as i32);
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] {
                    if !(0..64).contains(&nx) || !(0..64).contains(&ny) {
                        continue;
                    }
                    let j = (ny * 64 + nx) as usize;
                    if !seen[j] && img.get_pixel(nx as u32, ny as u32).0 != BACKGROUND {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        blobs
    }

    #[test]
    fn generation_is_deterministic_and_seed_dependent() {
        assert_eq!(
            Scene::generate(42),
            Scene::generate(42),
            "same seed, other scene"
        );
        assert_eq!(Scene::generate(42).render(), Scene::generate(42).render());
        let distinct: std::collections::HashSet<_> = (0..50)
            .map(|s| format!("{:?}", Scene::generate(s)))
            .collect();
        assert!(distinct.len() > 45, "seeds barely change the scene");
    }

    #[test]
    fn captions_and_answers_agree_with_the_pixels() {
        for seed in 0..300 {
            let scene = Scene::generate(seed);
            let img = scene.render();
            let n = scene.objects.len();
            assert!((2..=4).contains(&n), "seed {seed}: {n} objects");
            // Parse the caption back and check each named object's colour at its centre
            // and the left-to-right order of the centres.
            let caption = scene.caption();
            let names: Vec<&str> = caption.split(" left of ").collect();
            assert_eq!(
                names.len(),
                n,
                "seed {seed}: caption lists every object once"
            );
            for (name, o) in names.iter().zip(&scene.objects) {
                let words: Vec<&str> = name.split(' ').collect();
                let article = if words[1] == "orange" { "an" } else { "a" };
                assert_eq!(words[0], article, "seed {seed}: article of {name}");
                let centre = img.get_pixel(o.cx as u32, o.cy as u32).0;
                assert_eq!(
                    centre,
                    colour_named(words[1]),
                    "seed {seed}: {name} at centre"
                );
                assert_eq!(words[2], o.shape.name());
            }
            // Every object pixel belongs to exactly one object: no overlap.
            for y in 0..64 {
                for x in 0..64 {
                    let hits = scene.objects.iter().filter(|o| o.contains(x, y)).count();
                    assert!(hits <= 1, "seed {seed}: shapes overlap at ({x}, {y})");
                }
            }
            // Answers: the count against the connected blobs of non-background
            // pixels, colours against the pixel at the named object's centre.
            for qa in scene.questions(seed) {
                let q = qa.question.as_str();
                if q == "how many shapes are there?" {
                    assert_eq!(qa.answer, count_blobs(&img).to_string(), "seed {seed}");
                } else if let Some((side, rest)) = q
                    .strip_prefix("what is left of the ")
                    .map(|r| ("left", r))
                    .or_else(|| {
                        q.strip_prefix("what is right of the ")
                            .map(|r| ("right", r))
                    })
                {
                    // The nearest object on that side, found from the centres alone.
                    let target = rest.trim_end_matches('?');
                    let t = scene.objects.iter().find(|o| o.name() == target).unwrap();
                    let on_side = scene.objects.iter().filter(|o| {
                        if side == "left" {
                            o.cx < t.cx
                        } else {
                            o.cx > t.cx
                        }
                    });
                    let nearest = on_side.min_by_key(|o| (o.cx - t.cx).abs()).unwrap();
                    assert_eq!(qa.answer, nearest.name(), "seed {seed}: {q}");
                    let colour = colour_named(qa.answer.split(' ').next().unwrap());
                    let px = img.get_pixel(nearest.cx as u32, nearest.cy as u32).0;
                    assert_eq!(px, colour, "seed {seed}: {q}");
                } else if let Some(rest) = q.strip_prefix("is there ") {
                    let target = strip(rest.trim_end_matches('?'));
                    let present = names.iter().any(|s| strip(s) == target);
                    assert_eq!(qa.answer, if present { "yes" } else { "no" }, "{q}");
                } else if let Some(rest) = q.strip_prefix("what color is the ") {
                    let shape = rest.trim_end_matches('?');
                    let o = scene.objects.iter().find(|o| o.shape.name() == shape);
                    let o = o.unwrap();
                    let px = img.get_pixel(o.cx as u32, o.cy as u32).0;
                    assert_eq!(px, colour_named(&qa.answer), "seed {seed}: {q}");
                }
            }
        }
    }

    #[test]
    fn shapes_have_the_documented_pixel_extent() {
        let tri = SceneObject {
            shape: Shape::Triangle,
            colour: 0,
            cx: 20,
            cy: 20,
            half_size: 6,
        };
        assert!(tri.contains(20, 14), "apex pixel");
        assert!(!tri.contains(21, 14), "apex row is one pixel wide");
        assert!(tri.contains(14, 26) && tri.contains(26, 26), "base corners");
        assert!(!tri.contains(14, 25), "sides slope inwards");
        let sq = SceneObject {
            shape: Shape::Square,
            ..tri
        };
        let area = (0..64)
            .flat_map(|y| (0..64).map(move |x| (x, y)))
            .filter(|&(x, y)| sq.contains(x, y))
            .count();
        assert_eq!(area, 13 * 13, "square side is 2 * half_size + 1");
    }
}
