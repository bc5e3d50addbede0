"""The Voice page: text to speech in any voice, voice conversion of a clip, and the vocoder lab."""
from __future__ import annotations

import gradio as gr
import pandas as pd

from apps.catalogue import demo, papers_markdown
from apps.common import gradio_handler, gradio_progress, gradio_session_dir, write_download
from apps.figures import voice as plots
from models.common.audio import save_wav
from models.common.errors import InputError
from models.common.progress import report
from models.speech.asr import intelligibility_table
from models.speech.voice import knn_vc, lab, metrics, tts, voices
from models.speech.voice.features import MEL, peak_normalise
from models.speech.voice.vocoders import DEFAULT_VOCODER, VOCODERS

DEMO = demo("voice")
CONVERT_SOURCE_EXAMPLE = "Held-out sentence, espeak en-us"


def _timings_markdown(timings: dict[str, float], seconds: float) -> str:
    parts = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items())
    return f"**{seconds:.1f} s of audio** in {sum(timings.values()) * 1000:.0f} ms ({parts})."


@gradio_handler
def speak(text: str, voice: str, rate: float, pitch: float, target: str, reference: str | None,
          space: str, blend: float, vocoder: str, check_words: bool, request: gr.Request,
          progress=gr.Progress()):
    """Text -> engine speech -> (optionally) kNN conversion toward the target voice, and
    (optionally) what an offline recogniser hears in each clip."""
    out_dir = gradio_session_dir(request)
    cb = gradio_progress(progress)
    report(cb, 0.1, "Preparing the target voice")
    bank = voices.target_bank(target, reference, space)
    report(cb, 0.3, "Speaking and converting")
    speech = tts.speak(text, voice, rate=int(rate), pitch=int(pitch), target=bank, blend=blend, vocoder=vocoder)
    wav_plain = save_wav(out_dir / "tts_engine_voice.wav", speech.engine, MEL.sr)
    clips = {"engine voice": speech.engine}
    wav_conv = None
    if speech.converted is not None:
        wav_conv = save_wav(out_dir / "tts_converted_voice.wav", speech.converted, MEL.sr)
        clips[f"converted (blend {blend:.2f})"] = speech.converted
    fig = plots.spectrograms(clips)
    info = _timings_markdown(speech.timings, len(speech.engine) / MEL.sr)
    files = [str(p) for p in (wav_plain, wav_conv) if p is not None]
    heard = None
    if check_words:
        report(cb, 0.8, "Listening with the offline recogniser")
        heard = pd.DataFrame(intelligibility_table(text, clips, MEL.sr))
        files.append(str(write_download(out_dir, "tts_recognised.csv", heard)))
    return (str(wav_plain), (str(wav_conv) if wav_conv else None), speech.phonemes, fig, info, files,
            gr.update(value=heard, visible=heard is not None))


@gradio_handler
def convert_clip(source_choice: str, source_upload: str | None, target: str, reference: str | None,
                 space: str, blend: float, speed: float, semitones: float, vocoder: str, request: gr.Request,
                 progress=gr.Progress()):
    """Voice conversion of a clip, scored for speaker similarity and kept intelligibility."""
    out_dir = gradio_session_dir(request)
    cb = gradio_progress(progress)
    report(cb, 0.1, "Loading the source clip")
    source = lab.clip_audio(source_choice, source_upload)
    if target == voices.NO_CONVERSION:
        raise InputError("Pick a target voice (or upload a reference) to convert to.")
    report(cb, 0.3, "Preparing the target voice")
    bank = voices.target_bank(target, reference, space)
    report(cb, 0.5, "Converting")
    out = knn_vc.convert(source, bank, blend=blend, speed=speed, semitones=semitones, vocoder=vocoder)
    audio = peak_normalise(out.audio)
    wav = save_wav(out_dir / "converted.wav", audio, MEL.sr)
    table = metrics.conversion_scores(source, audio, voices.reference_audio(target, reference),
                                      aligned=speed == 1.0 and semitones == 0.0)
    scores = write_download(out_dir, "conversion_metrics.json", table)
    fig = plots.spectrograms({"source": source, "converted": audio})
    rows = [[k, v] for k, v in table.items()]
    return str(wav), fig, rows, [str(wav), str(scores)]


@gradio_handler
def run_lab(example: str, upload: str | None, chosen: list[str], request: gr.Request,
            progress=gr.Progress()):
    """Copy synthesis: mel of the clip -> each vocoder, with A/B players, spectrograms and metrics."""
    out_dir = gradio_session_dir(request)
    audio = lab.clip_audio(example, upload)
    results, table = lab.compare(audio, chosen, progress=gradio_progress(progress))
    original = save_wav(out_dir / "lab_original.wav", audio, MEL.sr)
    by_name = {r.name: str(save_wav(out_dir / f"lab_{lab.file_stem(r.name)}.wav", r.audio, MEL.sr)) for r in results}
    players = [by_name.get(name) for name in VOCODERS]
    fig = plots.spectrograms({"original": audio, **{r.name: r.audio for r in results}}, height_per_row=150)
    csv = write_download(out_dir, "vocoder_metrics.csv", table)
    return (str(original), *players, table, fig, [str(csv), *by_name.values()])


@gradio_handler
def explain_space(space: str) -> str:
    return knn_vc.space_note(space)


def _target_picker() -> tuple[gr.Dropdown, gr.Audio, gr.Dropdown]:
    """Target voice, reference upload, and the converter with its side note (updated live)."""
    target = gr.Dropdown(voices.target_choices(), value=voices.DEFAULT_TARGET,
                         label="Target voice", info="Built-in speakers, real recordings, or your own reference clip")
    reference = gr.Audio(sources=["upload", "microphone"], type="filepath", label=voices.REFERENCE_HINT)
    space = gr.Radio(list(knn_vc.MATCHING_SPACES), value=knn_vc.DEFAULT_SPACE, label="Converter",
                     info="kNN: each source frame is replaced by its nearest target-voice frames in this space; "
                          "flow matching generates new frames instead")
    note = gr.Markdown(knn_vc.space_note(knn_vc.DEFAULT_SPACE))
    space.change(explain_space, space, note)
    return target, reference, space


def build(page: gr.Blocks) -> None:
    """Lay out the three tabs; ``page`` (the route's Blocks) is not needed: nothing runs on load."""
    gr.Markdown(f"# {DEMO.title}\n{DEMO.summary}")
    vocoder_names = list(VOCODERS)
    with gr.Tab("Text to speech"):
        with gr.Row():
            with gr.Column():
                text = gr.Textbox(tts.DEFAULT_TEXT, lines=3, max_length=tts.MAX_CHARS * 2,
                                  label=f"Text (English, at most {tts.MAX_CHARS} characters)")
                voice = gr.Dropdown(tts.voice_choices(), value=tts.DEFAULT_VOICE, label="Engine voice")
                with gr.Row():
                    rate = gr.Slider(80, 450, tts.DEFAULT_RATE, step=5, label="Speed (words per minute)")
                    pitch = gr.Slider(0, 99, tts.DEFAULT_PITCH, step=1, label="Pitch (espeak 0-99)")
            with gr.Column():
                target, reference, space = _target_picker()
                blend = gr.Slider(0, 1, 1.0, step=0.05, label="Blend: 0 = engine voice, 1 = target voice")
                vocoder = gr.Dropdown(vocoder_names, value=DEFAULT_VOCODER, label="Vocoder for the converted speech")
                check_words = gr.Checkbox(False, label="Check the words with an offline speech recogniser",
                                          info="PocketSphinx transcribes each clip; WER against your text "
                                               "(about 1 s more; it struggles with espeak's robotic voices "
                                               "even unconverted, so compare clips, not voices)")
        speak_btn = gr.Button("Speak", variant="primary")
        with gr.Row():
            plain_out = gr.Audio(label="Engine voice", type="filepath", interactive=False,
                                 elem_id="voice-tts-plain")
            conv_out = gr.Audio(label="Converted voice", type="filepath", interactive=False,
                                elem_id="voice-tts-converted")
        info = gr.Markdown()
        ipa = gr.Textbox(label="Phonemes (espeak-ng IPA)", interactive=False)
        tts_plot = gr.Plot(label="Log-mel spectrograms")
        heard = gr.Dataframe(label="What the recogniser heard", interactive=False, visible=False,
                             elem_id="voice-tts-heard")
        tts_files = gr.File(label="Downloads (WAV, CSV)", file_count="multiple", interactive=False)
        speak_btn.click(speak, [text, voice, rate, pitch, target, reference, space, blend, vocoder, check_words],
                        [plain_out, conv_out, ipa, tts_plot, info, tts_files, heard])

    with gr.Tab("Voice conversion"):
        with gr.Row():
            with gr.Column():
                src_choice = gr.Dropdown([*lab.EXAMPLES, lab.UPLOADED_CLIP], value=CONVERT_SOURCE_EXAMPLE,
                                         label="Source clip")
                src_upload = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                      label=f"Your source clip (up to {lab.MAX_SECONDS:.0f} s)")
            with gr.Column():
                vc_target, vc_reference, vc_space = _target_picker()
                vc_blend = gr.Slider(0, 1, 1.0, step=0.05, label="Blend: 0 = source voice, 1 = target voice")
                with gr.Row():
                    speed = gr.Slider(0.5, 2.0, 1.0, step=0.05, label="Speed")
                    semitones = gr.Slider(-12, 12, 0, step=1, label="Pitch shift (semitones)")
                vc_vocoder = gr.Dropdown(vocoder_names, value=DEFAULT_VOCODER, label="Vocoder")
        convert_btn = gr.Button("Convert", variant="primary")
        with gr.Row():
            vc_out = gr.Audio(label="Converted", type="filepath", interactive=False)
            vc_table = gr.Dataframe(headers=["metric", "value"], label="Scores", interactive=False)
        vc_plot = gr.Plot(label="Log-mel spectrograms")
        vc_files = gr.File(label="Downloads", file_count="multiple", interactive=False)
        convert_btn.click(convert_clip, [src_choice, src_upload, vc_target, vc_reference, vc_space, vc_blend, speed,
                                         semitones, vc_vocoder], [vc_out, vc_plot, vc_table, vc_files])

    with gr.Tab("Vocoder lab"):
        gr.Markdown("Copy synthesis: the clip's 80-bin log-mel is turned back into a waveform by each vocoder "
                    "and scored against the original (mel distance: lower is better; PESQ, STOI: higher; "
                    "RTF = compute time / audio duration).")
        with gr.Row():
            lab_example = gr.Dropdown([*lab.EXAMPLES, lab.UPLOADED_CLIP], value=next(iter(lab.EXAMPLES)), label="Clip")
            lab_upload = gr.Audio(sources=["upload", "microphone"], type="filepath",
                                  label=f"Your clip (up to {lab.MAX_SECONDS:.0f} s)")
            chosen = gr.CheckboxGroup(vocoder_names, value=vocoder_names, label="Vocoders")
        lab_btn = gr.Button("Run vocoders", variant="primary")
        with gr.Row():
            players = [gr.Audio(label="Original", type="filepath", interactive=False)]
            players += [gr.Audio(label=name, type="filepath", interactive=False) for name in vocoder_names]
        lab_table = gr.Dataframe(label="Metrics against the original", interactive=False)
        lab_plot = gr.Plot(label="Log-mel spectrograms")
        lab_files = gr.File(label="Downloads (CSV, WAV)", file_count="multiple", interactive=False)
        lab_btn.click(run_lab, [lab_example, lab_upload, chosen], [*players, lab_table, lab_plot, lab_files])
    gr.Markdown(f"Papers:\n{papers_markdown(DEMO)}")
