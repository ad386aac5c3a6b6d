//! The machine's own microphone and speaker as a call (`hotline talk`), through `cpal`. The
//! device streams run on cpal's threads, opened and held by one thread of ours; they meet the
//! transport task in two bounded sample rings. The transport's 20 ms clock paces both
//! directions: a frame of the microphone in, a frame of the assistant out, per tick. A device
//! that delivers faster than real time (ALSA's file and null plugins, which the tests use)
//! waits on a full ring, so it is paced too; a real device keeps the rings nearly empty.
//! A laptop's speaker feeds its microphone: the pipeline's echo gate (which knows what the
//! assistant is saying) keeps that from being heard as the caller.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample, Stream, StreamConfig};
use tokio::time::MissedTickBehavior;

use super::inbound::InboundFrame;
use super::transport::{
    Codec, MediaFormat, MediaTransport, TransportError, TransportEvent, TransportFuture,
    TransportIo,
};
use crate::audio::stream_resampler::StreamResampler;

/// The pipeline's rate for the local device.
const RATE: u32 = 16_000;
const FRAME: Duration = Duration::from_millis(20);
/// Each ring holds this much audio at the device's rate.
const RING: Duration = Duration::from_millis(200);
/// The speaker waits this long for the assistant's next frame before playing silence.
const SPEAKER_WAIT: Duration = Duration::from_millis(30);
/// The microphone waits this long for room before the oldest audio is dropped.
const MIC_WAIT: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("no {0} sound device (is ALSA configured? `arecord -l` / `aplay -l` list them)")]
    NoDevice(&'static str),
    #[error("the {what} device: {detail}")]
    Device { what: &'static str, detail: String },
    #[error("the {what} device's sample format {format} is not supported (f32 or i16 are)")]
    Format {
        what: &'static str,
        format: SampleFormat,
    },
    #[error("cannot start the sound-device thread: {0}")]
    Thread(#[from] std::io::Error),
}

/// A bounded queue of mono samples between a device callback and the transport.
struct SampleRing {
    queue: Mutex<VecDeque<f32>>,
    changed: Condvar,
    capacity: usize,
    /// Samples dropped because the ring was full.
    dropped: AtomicU64,
    /// Samples the speaker played as silence because none were there.
    starved: AtomicU64,
}

impl SampleRing {
    fn new(capacity: usize) -> SampleRing {
        SampleRing {
            queue: Mutex::new(VecDeque::with_capacity(capacity)),
            changed: Condvar::new(),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            starved: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<f32>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The producer's side that may wait (a device callback): waits up to `wait` for room,
    /// then makes room by dropping the oldest.
    fn push_waiting(&self, mut samples: &[f32], wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut q = self.lock();
        while !samples.is_empty() {
            let room = self.capacity - q.len();
            if room == 0 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let n = samples.len().min(self.capacity);
                    q.drain(..n);
                    self.dropped.fetch_add(n as u64, Ordering::Relaxed);
                    continue;
                }
                q = self
                    .changed
                    .wait_timeout(q, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            let n = room.min(samples.len());
            q.extend(&samples[..n]);
            samples = &samples[n..];
            self.changed.notify_all();
        }
    }

    /// The producer's side that never waits (the transport): drops the oldest when full.
    fn push(&self, samples: &[f32]) {
        let mut q = self.lock();
        q.extend(samples);
        if q.len() > self.capacity {
            let excess = q.len() - self.capacity;
            q.drain(..excess);
            self.dropped.fetch_add(excess as u64, Ordering::Relaxed);
        }
        self.changed.notify_all();
    }

    /// `n` samples if that many are there (the transport's side).
    fn take(&self, n: usize, out: &mut Vec<f32>) -> bool {
        let mut q = self.lock();
        if q.len() < n {
            return false;
        }
        out.clear();
        out.extend(q.drain(..n));
        self.changed.notify_all();
        true
    }

    /// Fills `out` (a device callback): waits up to `wait` for enough, the rest is silence.
    fn fill_waiting(&self, out: &mut [f32], wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut q = self.lock();
        while q.len() < out.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            q = self
                .changed
                .wait_timeout(q, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let n = q.len().min(out.len());
        for (o, s) in out.iter_mut().zip(q.drain(..n)) {
            *o = s;
        }
        out[n..].fill(0.0);
        if n < out.len() {
            self.starved
                .fetch_add((out.len() - n) as u64, Ordering::Relaxed);
        }
        self.changed.notify_all();
    }
}

/// The device side: rings, rates, and the thread holding the streams.
struct Device {
    mic: Arc<SampleRing>,
    speaker: Arc<SampleRing>,
    mic_rate: u32,
    speaker_rate: u32,
    errors: Receiver<String>,
    /// Dropping it stops the streams.
    _stop: SyncSender<()>,
}

/// Samples a ring holds at `rate`.
fn ring_len(rate: u32) -> usize {
    (RING.as_secs_f64() * f64::from(rate)) as usize
}

fn device_err(what: &'static str) -> impl Fn(String) -> DeviceError {
    move |detail| DeviceError::Device { what, detail }
}

/// What a stream starts from: the device's own configuration and a ring at its rate.
struct StreamPlan {
    config: StreamConfig,
    format: SampleFormat,
    channels: usize,
    ring: Arc<SampleRing>,
}

fn plan(
    supported: Result<cpal::SupportedStreamConfig, cpal::Error>,
    what: &'static str,
) -> Result<StreamPlan, DeviceError> {
    let supported = supported.map_err(|e| device_err(what)(e.to_string()))?;
    let config: StreamConfig = supported.config();
    Ok(StreamPlan {
        channels: usize::from(config.channels.max(1)),
        ring: Arc::new(SampleRing::new(ring_len(config.sample_rate))),
        format: supported.sample_format(),
        config,
    })
}

/// A stream's error callback. Over- and underruns, a rerouted default device and refused
/// real-time priority are logged and the call goes on; anything else (the device is gone) goes
/// to the transport, which hangs up.
fn report_to(errors: SyncSender<String>) -> impl FnMut(cpal::Error) + Send + 'static {
    use cpal::ErrorKind;
    move |e| match e.kind() {
        ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied => {
            tracing::debug!("sound device: {e}");
        }
        _ => {
            let _ = errors.try_send(e.to_string());
        }
    }
}

/// The microphone: every callback's audio, mixed to mono, into the ring.
fn mic_stream(
    device: &cpal::Device,
    errors: SyncSender<String>,
) -> Result<(Stream, u32, Arc<SampleRing>), DeviceError> {
    let plan = plan(device.default_input_config(), "microphone")?;
    let (rate, held) = (plan.config.sample_rate, plan.ring.clone());
    let stream = match plan.format {
        SampleFormat::F32 => build_mic::<f32>(device, plan, errors),
        SampleFormat::I16 => build_mic::<i16>(device, plan, errors),
        format => {
            return Err(DeviceError::Format {
                what: "microphone",
                format,
            });
        }
    }
    .map_err(|e| device_err("microphone")(e.to_string()))?;
    Ok((stream, rate, held))
}

fn build_mic<T: SizedSample>(
    device: &cpal::Device,
    plan: StreamPlan,
    errors: SyncSender<String>,
) -> Result<Stream, cpal::Error>
where
    f32: FromSample<T>,
{
    let StreamPlan {
        config,
        channels,
        ring,
        ..
    } = plan;
    let mut mono = Vec::new();
    device.build_input_stream(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            mono.clear();
            mono.extend(
                data.chunks(channels)
                    .map(|c| c.iter().map(|&s| f32::from_sample(s)).sum::<f32>() / c.len() as f32),
            );
            ring.push_waiting(&mono, MIC_WAIT);
        },
        report_to(errors),
        None,
    )
}

/// The speaker: every callback filled from the ring, mono to every channel.
fn speaker_stream(
    device: &cpal::Device,
    errors: SyncSender<String>,
) -> Result<(Stream, u32, Arc<SampleRing>), DeviceError> {
    let plan = plan(device.default_output_config(), "speaker")?;
    let (rate, held) = (plan.config.sample_rate, plan.ring.clone());
    let stream = match plan.format {
        SampleFormat::F32 => build_speaker::<f32>(device, plan, errors),
        SampleFormat::I16 => build_speaker::<i16>(device, plan, errors),
        format => {
            return Err(DeviceError::Format {
                what: "speaker",
                format,
            });
        }
    }
    .map_err(|e| device_err("speaker")(e.to_string()))?;
    Ok((stream, rate, held))
}

fn build_speaker<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    plan: StreamPlan,
    errors: SyncSender<String>,
) -> Result<Stream, cpal::Error> {
    let StreamPlan {
        config,
        channels,
        ring,
        ..
    } = plan;
    let mut mono = Vec::new();
    device.build_output_stream(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            mono.resize(data.len() / channels, 0.0);
            ring.fill_waiting(&mut mono, SPEAKER_WAIT);
            for (frame, &s) in data.chunks_mut(channels).zip(&mono) {
                frame.fill(T::from_sample(s));
            }
        },
        report_to(errors),
        None,
    )
}

impl Device {
    /// Opens the default microphone and speaker on a thread that holds them (cpal's streams
    /// must stay on the thread that made them on some platforms).
    fn open() -> Result<Device, DeviceError> {
        let (ready_tx, ready) = sync_channel::<Result<Device, DeviceError>>(1);
        std::thread::Builder::new()
            .name("sound-device".into())
            .spawn(move || {
                let (stop_tx, stop) = sync_channel::<()>(0);
                let (errors_tx, errors) = sync_channel::<String>(16);
                let opened = (|| {
                    let host = cpal::default_host();
                    let mic_dev = host
                        .default_input_device()
                        .ok_or(DeviceError::NoDevice("microphone"))?;
                    let speaker_dev = host
                        .default_output_device()
                        .ok_or(DeviceError::NoDevice("speaker"))?;
                    let (mic_stream, mic_rate, mic) = mic_stream(&mic_dev, errors_tx.clone())?;
                    let (speaker_stream, speaker_rate, speaker) =
                        speaker_stream(&speaker_dev, errors_tx)?;
                    mic_stream
                        .play()
                        .map_err(|e| device_err("microphone")(e.to_string()))?;
                    speaker_stream
                        .play()
                        .map_err(|e| device_err("speaker")(e.to_string()))?;
                    Ok((
                        mic,
                        speaker,
                        mic_rate,
                        speaker_rate,
                        mic_stream,
                        speaker_stream,
                    ))
                })();
                match opened {
                    Ok((mic, speaker, mic_rate, speaker_rate, mic_stream, speaker_stream)) => {
                        let _ = ready_tx.send(Ok(Device {
                            mic,
                            speaker,
                            mic_rate,
                            speaker_rate,
                            errors,
                            _stop: stop_tx,
                        }));
                        // Held until the transport drops its end.
                        let _ = stop.recv();
                        drop(mic_stream);
                        drop(speaker_stream);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            })?;
        ready.recv().unwrap_or(Err(DeviceError::Device {
            what: "sound",
            detail: "the device thread ended".into(),
        }))
    }
}

/// The local microphone and speaker as a call's transport.
pub struct DeviceTransport {
    device: Device,
}

impl DeviceTransport {
    /// Opens the default input and output devices.
    pub fn open() -> Result<DeviceTransport, DeviceError> {
        let device = Device::open()?;
        tracing::info!(
            mic_rate = device.mic_rate,
            speaker_rate = device.speaker_rate,
            "sound devices open"
        );
        Ok(DeviceTransport { device })
    }
}

fn format() -> MediaFormat {
    MediaFormat {
        codec: Codec::L16,
        rate: RATE,
        frame: FRAME,
    }
}

impl MediaTransport for DeviceTransport {
    fn format(&self) -> MediaFormat {
        format()
    }

    fn run(self: Box<Self>, mut io: TransportIo) -> TransportFuture {
        Box::pin(async move {
            let device = self.device;
            let format = format();
            let frame_len = format.frame_len();
            let resampler = |from, to| {
                StreamResampler::new(from, to).map_err(|e| TransportError::Other(e.to_string()))
            };
            let mut mic_in = resampler(device.mic_rate, RATE)?;
            let mut speaker_out = resampler(RATE, device.speaker_rate)?;
            let mic_chunk = (device.mic_rate as usize * FRAME.as_millis() as usize) / 1000;
            let mut raw = Vec::with_capacity(mic_chunk);
            let mut resampled = Vec::new();
            let mut pending: VecDeque<f32> = VecDeque::new();
            let mut frame = Vec::with_capacity(frame_len);
            let mut encoded = Vec::new();
            let mut samples = Vec::new();
            let mut frames_in: u32 = 0;
            let mut ticker = tokio::time::interval(FRAME);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            let ending = loop {
                tokio::select! {
                    biased;
                    changed = io.hangup.changed() => {
                        if changed.is_err() || *io.hangup.borrow() {
                            break None;
                        }
                    }
                    key = io.keys_out.recv(), if !io.keys_out.is_closed() => {
                        if let Some(key) = key {
                            tracing::debug!("DTMF {key:?} not played: the local device has no keypad");
                        }
                    }
                    _ = ticker.tick() => {
                        if let Ok(error) = device.errors.try_recv() {
                            break Some(format!("the sound device failed: {error}"));
                        }
                        // In: one frame of the microphone, if the device has delivered it.
                        if device.mic.take(mic_chunk, &mut raw) {
                            resampled.clear();
                            mic_in.push(&raw, &mut resampled).map_err(|e| TransportError::Other(e.to_string()))?;
                            pending.extend(&resampled);
                        }
                        while pending.len() >= frame_len {
                            frame.clear();
                            frame.extend(pending.drain(..frame_len));
                            format.encode(&frame, &mut encoded);
                            io.inbound.push(InboundFrame {
                                payload: encoded.clone(),
                                media_time: FRAME * frames_in,
                                received: Instant::now(),
                            });
                            frames_in += 1;
                        }
                        // Out: one frame of the assistant (or silence) to the speaker.
                        let out = io.playout.next_frame();
                        format.decode(&out.payload, &mut samples);
                        resampled.clear();
                        speaker_out.push(&samples, &mut resampled).map_err(|e| TransportError::Other(e.to_string()))?;
                        device.speaker.push(&resampled);
                    }
                }
            };
            io.inbound.close();
            tracing::info!(
                mic_dropped = device.mic.dropped.load(Ordering::Relaxed),
                speaker_dropped = device.speaker.dropped.load(Ordering::Relaxed),
                speaker_starved = device.speaker.starved.load(Ordering::Relaxed),
                "sound devices closed"
            );
            if let Some(reason) = ending {
                let _ = io.events.send(TransportEvent::Hangup { reason }).await;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fast_producer_waits_for_room_and_loses_nothing() {
        let ring = Arc::new(SampleRing::new(100));
        let producer = {
            let ring = ring.clone();
            std::thread::spawn(move || {
                for i in 0..10 {
                    let chunk: Vec<f32> = (0..70).map(|k| (i * 70 + k) as f32).collect();
                    ring.push_waiting(&chunk, Duration::from_secs(5));
                }
            })
        };
        let mut got = Vec::new();
        let mut piece = Vec::new();
        while got.len() < 700 {
            if ring.take(35, &mut piece) {
                got.extend_from_slice(&piece);
            } else {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        producer.join().unwrap();
        assert_eq!(got, (0..700).map(|k| k as f32).collect::<Vec<_>>());
        assert_eq!(ring.dropped.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_stalled_consumer_costs_the_oldest_audio_not_a_hang() {
        let ring = SampleRing::new(10);
        ring.push_waiting(&[1.0; 10], Duration::ZERO);
        ring.push_waiting(&[2.0; 4], Duration::from_millis(5));
        let mut out = Vec::new();
        assert!(ring.take(10, &mut out));
        assert_eq!(out, [[1.0; 6].as_slice(), &[2.0; 4]].concat());
        assert_eq!(ring.dropped.load(Ordering::Relaxed), 4);
        // The non-waiting side drops the oldest at once.
        ring.push(&[3.0; 12]);
        assert_eq!(ring.dropped.load(Ordering::Relaxed), 6);
    }

    #[test]
    fn the_speaker_plays_what_is_there_then_silence() {
        let ring = SampleRing::new(10);
        ring.push(&[0.5; 3]);
        let mut out = [9.0; 5];
        ring.fill_waiting(&mut out, Duration::from_millis(5));
        assert_eq!(out, [0.5, 0.5, 0.5, 0.0, 0.0]);
        assert_eq!(ring.starved.load(Ordering::Relaxed), 2);
    }
}
