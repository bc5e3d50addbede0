"""Voice generation (issue 5): text to speech, kNN voice conversion and a vocoder lab.

``features`` defines the one mel spectrogram every stage shares, ``corpus`` speaks a fixed
offline corpus, ``istftnet`` is the small neural vocoder, ``vocoders`` puts Griffin-Lim, FreeV
and the neural vocoder behind one call, ``knn_vc`` converts voices and ``tts`` ties it together.
"""
