"""The demos: what each shows and which paper it comes from. Both front ends' home pages and
navigation read this one list, so a new demo is registered here once."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Paper:
    title: str
    venue: str
    url: str


@dataclass(frozen=True)
class Demo:
    slug: str  # module name in apps/gradio_pages and apps/streamlit_pages, and the URL path
    title: str
    summary: str
    how_to_start: str
    papers: tuple[Paper, ...]


DEMOS: tuple[Demo, ...] = (
    Demo(
        "forecasting", "Forecasting",
        "CycleNet learns one cycle per channel and forecasts only the residual; SparseTSF "
        "forecasts each phase of the period with one tiny shared linear map. See the learned "
        "cycles, forecasts and errors on the ETT benchmark or on your own CSV.",
        "Open the page: the default ETTh1 run loads instantly from bundled checkpoints. Move the "
        "window slider, then try your own CSV.",
        (Paper("CycleNet: Enhancing Time Series Forecasting through Modeling Periodic Patterns",
               "NeurIPS 2024", "https://arxiv.org/abs/2409.18479"),
         Paper("SparseTSF: Modeling Long-term Time Series Forecasting with 1k Parameters",
               "ICML 2024", "https://arxiv.org/abs/2405.00946")),
    ),
    Demo(
        "speech", "Speech",
        "Speech enhancement and two-speaker separation: pretrained DeepFilterNet3 and RNNoise "
        "beside compact FRCRN- and TIGER-style models trained here, with A/B players, "
        "spectrograms and quality metrics.",
        "Pick a built-in noisy example (no upload needed) and press Enhance, or upload/record audio.",
        (Paper("FRCRN: Boosting Feature Representation using Frequency Recurrence for Monaural "
               "Speech Enhancement", "ICASSP 2022", "https://arxiv.org/abs/2206.07293"),
         Paper("TIGER: Time-frequency Interleaved Gain Extraction and Reconstruction for "
               "Efficient Speech Separation", "ICLR 2025", "https://arxiv.org/abs/2410.01469")),
    ),
    Demo(
        "voice", "Voice",
        "Text to speech in any voice: espeak-ng speech converted toward a reference voice by "
        "kNN frame matching or flow matching with a blend slider, words checked by an offline "
        "recogniser, and a vocoder lab comparing Griffin-Lim, FreeV and a small iSTFTNet-style vocoder.",
        "Type a sentence, pick a voice and press Speak; then move the blend slider.",
        (Paper("SSL-TTS: Leveraging Self-Supervised Embeddings and kNN Retrieval for Zero-Shot "
               "Multi-speaker TTS", "arXiv 2024", "https://arxiv.org/abs/2408.10771"),
         Paper("StableVC: Style Controllable Zero-Shot Voice Conversion with Conditional Flow Matching",
               "AAAI 2025", "https://arxiv.org/abs/2412.04724"),
         Paper("iSTFTNet: Fast and Lightweight Mel-Spectrogram Vocoder Incorporating Inverse "
               "Short-Time Fourier Transform", "ICASSP 2022", "https://arxiv.org/abs/2203.02395"),
         Paper("FreeV: Free Lunch For Vocoders Through Pseudo Inversed Mel Filter",
               "Interspeech 2024", "https://arxiv.org/abs/2406.08196")),
    ),
    Demo(
        "spectral", "Fine-tuning spectra",
        "LoRA and full fine-tuning reach similar accuracy yet change the weights differently: "
        "LoRA adds 'intruder dimensions', new top singular vectors unlike any of the pretrained "
        "matrix. Count them on real MiniLM fine-tunes or on your own checkpoints.",
        "Pick the built-in runs and move the epsilon slider; then inspect your own checkpoints.",
        (Paper("LoRA vs Full Fine-tuning: An Illusion of Equivalence", "arXiv 2024",
               "https://arxiv.org/abs/2410.21228"),),
    ),
    Demo(
        "merging", "Merging",
        "Merge fine-tuned models with task arithmetic, TIES, DARE, SLERP, Fisher, LiNeS and "
        "AdaMerging, move the sliders, and watch the merged model's accuracy on every task update live.",
        "Pick a method and move a slider: the digits family re-evaluates instantly.",
        (Paper("Editing Models with Task Arithmetic", "ICLR 2023", "https://arxiv.org/abs/2212.04089"),
         Paper("TIES-Merging: Resolving Interference When Merging Models", "NeurIPS 2023",
               "https://arxiv.org/abs/2306.01708"),
         Paper("Merging Models with Fisher-Weighted Averaging", "NeurIPS 2022",
               "https://arxiv.org/abs/2111.09832"),
         Paper("AdaMerging: Adaptive Model Merging for Multi-Task Learning", "ICLR 2024",
               "https://arxiv.org/abs/2310.02575"),
         Paper("LiNeS: Post-training Layer Scaling Prevents Forgetting and Enhances Model Merging",
               "ICLR 2025", "https://arxiv.org/abs/2410.17146")),
    ),
)


def demo(slug: str) -> Demo:
    """The catalogue entry for ``slug``."""
    return next(d for d in DEMOS if d.slug == slug)


def papers_markdown(d: Demo) -> str:
    """The papers of a demo as a Markdown list with links."""
    return "\n".join(f"- [{p.title}]({p.url}) ({p.venue})" for p in d.papers)


def not_built_markdown(d: Demo) -> str:
    """What a page says until its demo is built, so nobody mistakes a placeholder for a demo."""
    return (f"# {d.title}\n\n**This page is not built yet.** It will show: {d.summary}\n\n"
            f"Papers:\n{papers_markdown(d)}")
