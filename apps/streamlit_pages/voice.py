"""The Voice page in Streamlit: text to speech in any voice, voice conversion and the vocoder lab."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from apps.catalogue import demo, papers_markdown
from apps.common import streamlit_errors, streamlit_progress, streamlit_session_dir, write_download
from apps.figures import voice as plots
from models.common.audio import save_wav
from models.speech.asr import intelligibility_table
from models.speech.voice import knn_vc, lab, metrics, tts, voices
from models.speech.voice.features import MEL, peak_normalise
from models.speech.voice.vocoders import DEFAULT_VOCODER, VOCODERS

DEMO = demo("voice")
AUDIO_TYPES = ["wav", "flac", "ogg", "mp3"]


def _saved_upload(upload, name: str) -> str | None:
    """Write an uploaded file into this session's directory and return its path."""
    if upload is None:
        return None
    path = streamlit_session_dir() / f"{name}{Path(upload.name).suffix.lower()}"
    path.write_bytes(upload.getvalue())
    return str(path)


def _target_picker(key: str) -> tuple[str, str | None, str]:
    """Target voice, reference upload, and the converter with its side note."""
    choices = voices.target_choices()
    target = st.selectbox("Target voice", choices, index=choices.index(voices.DEFAULT_TARGET), key=f"{key}_target")
    upload = st.file_uploader(voices.REFERENCE_HINT, type=AUDIO_TYPES, key=f"{key}_ref")
    space = st.radio("Converter", list(knn_vc.MATCHING_SPACES), key=f"{key}_space",
                     help="kNN: each source frame is replaced by its nearest target-voice frames in this space; "
                          "flow matching generates new frames instead")
    st.markdown(knn_vc.space_note(space))
    return target, _saved_upload(upload, f"{key}_reference"), space


def _play(label: str, audio, filename: str) -> None:
    st.caption(label)
    path = save_wav(streamlit_session_dir() / filename, audio, MEL.sr)
    st.audio(path.read_bytes(), format="audio/wav")
    st.download_button(f"Download {filename}", path.read_bytes(), file_name=filename, mime="audio/wav")


def _tts_tab() -> None:
    left, right = st.columns(2)
    with left:
        text = st.text_area(f"Text (English, at most {tts.MAX_CHARS} characters)", tts.DEFAULT_TEXT)
        voice = st.selectbox("Engine voice", tts.voice_choices())
        rate = st.slider("Speed (words per minute)", 80, 450, tts.DEFAULT_RATE, 5)
        pitch = st.slider("Pitch (espeak 0-99)", 0, 99, tts.DEFAULT_PITCH)
    with right:
        target, reference, space = _target_picker("tts")
        blend = st.slider("Blend: 0 = engine voice, 1 = target voice", 0.0, 1.0, 1.0, 0.05)
        vocoder = st.selectbox("Vocoder", list(VOCODERS), index=list(VOCODERS).index(DEFAULT_VOCODER))
        check_words = st.checkbox("Check the words with an offline speech recogniser",
                                  help="PocketSphinx transcribes each clip; WER against your text")
    if st.button("Speak", type="primary"):
        bank = voices.target_bank(target, reference, space)
        speech = tts.speak(text, voice, rate=rate, pitch=pitch, target=bank, blend=blend, vocoder=vocoder)
        clips = {"engine voice": speech.engine}
        _play("Engine voice", speech.engine, "tts_engine_voice.wav")
        if speech.converted is not None:
            clips[f"converted (blend {blend:.2f})"] = speech.converted
            _play("Converted voice", speech.converted, "tts_converted_voice.wav")
        st.text_input("Phonemes (espeak-ng IPA)", speech.phonemes, disabled=True)
        st.caption(", ".join(f"{k} {v * 1000:.0f} ms" for k, v in speech.timings.items()))
        st.plotly_chart(plots.spectrograms(clips))
        if check_words:
            st.dataframe(intelligibility_table(text, clips, MEL.sr))


def _conversion_tab() -> None:
    left, right = st.columns(2)
    with left:
        choices = [*lab.EXAMPLES, lab.UPLOADED_CLIP]
        source_choice = st.selectbox("Source clip", choices, index=2, key="vc_source")
        source_upload = _saved_upload(st.file_uploader("Your source clip", type=AUDIO_TYPES, key="vc_upload"),
                                      "vc_source")
    with right:
        target, reference, space = _target_picker("vc")
        blend = st.slider("Blend: 0 = source voice, 1 = target voice", 0.0, 1.0, 1.0, 0.05, key="vc_blend")
    if st.button("Convert", type="primary"):
        source = lab.clip_audio(source_choice, source_upload)
        bank = voices.target_bank(target, reference, space)
        if bank is None:
            st.warning("Pick a target voice (or upload a reference) to convert to.")
            return
        converted = peak_normalise(knn_vc.convert(source, bank, blend=blend).audio)
        _play("Converted", converted, "converted.wav")
        scores = metrics.conversion_scores(source, converted, voices.reference_audio(target, reference))
        st.table({k: [v] for k, v in scores.items()})
        st.plotly_chart(plots.spectrograms({"source": source, "converted": converted}))


def _lab_tab() -> None:
    choices = [*lab.EXAMPLES, lab.UPLOADED_CLIP]
    example = st.selectbox("Clip", choices, key="lab_clip")
    upload = _saved_upload(st.file_uploader("Your clip", type=AUDIO_TYPES, key="lab_upload"), "lab_source")
    chosen = st.multiselect("Vocoders", list(VOCODERS), default=list(VOCODERS))
    if st.button("Run vocoders", type="primary"):
        audio = lab.clip_audio(example, upload)
        results, table = lab.compare(audio, chosen, progress=streamlit_progress("Vocoding"))
        columns = st.columns(len(results) + 1)
        with columns[0]:
            _play("Original", audio, "lab_original.wav")
        for column, result in zip(columns[1:], results, strict=True):
            with column:
                _play(result.name, result.audio, f"lab_{lab.file_stem(result.name)}.wav")
        st.dataframe(table, hide_index=True)
        csv = write_download(streamlit_session_dir(), "vocoder_metrics.csv", table)
        st.download_button("Download metrics (CSV)", csv.read_bytes(), file_name=csv.name, mime="text/csv")
        st.plotly_chart(plots.spectrograms({"original": audio, **{r.name: r.audio for r in results}}, 150))


def render() -> None:
    with streamlit_errors():
        st.title(DEMO.title)
        st.write(DEMO.summary)
        tab_tts, tab_vc, tab_lab = st.tabs(["Text to speech", "Voice conversion", "Vocoder lab"])
        with tab_tts:
            _tts_tab()
        with tab_vc:
            _conversion_tab()
        with tab_lab:
            _lab_tab()
        st.markdown(f"Papers:\n{papers_markdown(DEMO)}")
