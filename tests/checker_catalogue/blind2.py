"""A third, blind catalogue of learners' answers to the course's 19 exercises (issue 33).

How it was written: without reading ``course_utils/lessons/checkers.py``, ``course_utils/lessons/exercise_sets/``, the
other catalogues or the exercise tests. Each exercise was learnt as a learner learns it: from the lesson
notebooks (``notebooks/01_gan_basics.py`` to ``04_training_on_colab.py``: the exercise cells and the
text above them), from what a stub prints, and from ``tests/test_checker_catalogue.py`` (which name each
cell defines, what the namespace holds). The wrong answers are the slips learners make: the TensorFlow
tutorial's and the PyTorch authors' conventions, off-by-one counts, swapped arguments, wrong
``training=`` flags, detached or double-counted terms, sums for means, wrong axes... Each carries the
words a message that names its cause would have to contain. An entry whose ``what`` starts with
"[miss] " was missed by the checkers when this catalogue was first run (see the report of issue 33).

After that first run, the words of 22 entries were changed where the checker's message did name the cause,
in other words than the ones guessed (e.g. "inference mode" for "training", "other domain" for
"same_y"); one wrong answer turned out to be equivalent on this course's networks (the CycleGAN
discriminators called with ``training=False``: instance norm and no dropout make the flag a no-op) and
was replaced by another mistake.
"""

from __future__ import annotations

from checker_catalogue import edit, equivalent, wrong

ENTRIES = []
add = ENTRIES.append

# =============================================================== lesson 01 =========================

# ---- 01.discriminator_loss ----------------------------------------------------------------------
D01 = '''
def discriminator_loss(real_logits, fake_logits):
    real_loss = bce_from_logits(tf.ones_like(real_logits), real_logits)
    fake_loss = bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
    return real_loss + fake_loss
'''
K = "01.discriminator_loss"
add(wrong(K, "labels the other way round: real 0, fake 1",
          edit(D01, "tf.ones_like(real_logits)", "tf.zeros_like(real_logits)",
               "tf.zeros_like(fake_logits)", "tf.ones_like(fake_logits)"), "label"))
add(wrong(K, "averages the two terms (halves the loss)", edit(D01, "return real_loss + fake_loss",
                                                            "return (real_loss + fake_loss) / 2"), "half"))
add(wrong(K, "takes the sigmoid of the logits before the BCE on logits",
          edit(D01, "real_logits), real_logits)", "real_logits), tf.sigmoid(real_logits))",
               "fake_logits), fake_logits)", "fake_logits), tf.sigmoid(fake_logits))"), "sigmoid"))
add(wrong(K, "forgets the fake term", edit(D01, "return real_loss + fake_loss", "return real_loss"), "fake"))
add(wrong(K, "the minimax value V(D, G) itself, which D maximises, not its loss (a miss on the blind run, named since)",
          edit(D01, "return real_loss + fake_loss", "return -(real_loss + fake_loss)"), "sign"))
add(wrong(K, "its own BCE, summed over the batch instead of averaged", '''
def discriminator_loss(real_logits, fake_logits):
    real = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(real_logits), logits=real_logits))
    fake = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits), logits=fake_logits))
    return real + fake
''', "mean"))
add(equivalent(K, "Keras's BinaryCrossentropy(from_logits=True)", '''
def discriminator_loss(real_logits, fake_logits):
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    return cross_entropy(tf.ones_like(real_logits), real_logits) + cross_entropy(tf.zeros_like(fake_logits), fake_logits)
'''))
add(equivalent(K, "softplus form: BCE(1, l) = softplus(-l), BCE(0, l) = softplus(l)", '''
def discriminator_loss(real_logits, fake_logits):
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))
'''))

# ---- 01.generator_loss --------------------------------------------------------------------------
K = "01.generator_loss"
add(wrong(K, "label 0 on the fakes (the discriminator's view)", '''
def generator_loss(fake_logits):
    return bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
''', "target"))
add(wrong(K, "the saturating minimax loss log(1 - D(G(z)))", '''
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.log(1.0 - tf.sigmoid(fake_logits) + 1e-12))
''', "saturat"))
add(wrong(K, "negates the BCE with label 1 (a miss on the blind run, named since)", '''
def generator_loss(fake_logits):
    return -bce_from_logits(tf.ones_like(fake_logits), fake_logits)
''', "sign"))
add(wrong(K, "sigmoid on the logits first", '''
def generator_loss(fake_logits):
    return bce_from_logits(tf.ones_like(fake_logits), tf.sigmoid(fake_logits))
''', "sigmoid"))
add(equivalent(K, "softplus(-l), averaged", '''
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.math.softplus(-tf.cast(fake_logits, tf.float32)))
'''))
add(equivalent(K, "tf.nn.sigmoid_cross_entropy_with_logits, label 1 as a Python scalar broadcast", '''
def generator_loss(fake_logits):
    labels = tf.ones(tf.shape(fake_logits), dtype=fake_logits.dtype)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=fake_logits))
'''))

# ---- 01.build_generator -------------------------------------------------------------------------
G01 = '''
def build_generator(latent_dim=100, filters=256):
    z = keras.Input((latent_dim,))
    x = layers.Dense(7 * 7 * filters, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape((7, 7, filters))(x)
    x = layers.Conv2DTranspose(filters // 2, 5, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    image = layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x)
    return keras.Model(z, image)
'''
K = "01.build_generator"
add(wrong(K, "Radford et al.'s ReLU in G instead of the tutorial's LeakyReLU 0.3",
          G01.replace("layers.LeakyReLU(negative_slope=0.3)", "layers.ReLU()"), "leaky"))
add(wrong(K, "LeakyReLU slope 0.2 (the discriminator's usual slope)",
          G01.replace("negative_slope=0.3", "negative_slope=0.2"), "slope"))
add(wrong(K, "strides swapped: 7 -> 14 -> 14 -> 28",
          edit(G01, "filters // 2, 5, strides=1", "filters // 2, 5, strides=2",
               "filters // 4, 5, strides=2", "filters // 4, 5, strides=1"), "stride"))
add(wrong(K, "keeps Keras's default biases before the batch norms",
          edit(G01, "layers.Dense(7 * 7 * filters, use_bias=False)", "layers.Dense(7 * 7 * filters)",
               'strides=1, padding="same", use_bias=False', 'strides=1, padding="same"',
               'filters // 4, 5, strides=2, padding="same", use_bias=False', 'filters // 4, 5, strides=2, padding="same"'),
          "bias"))
add(wrong(K, "forgets the batch norm after the Dense layer",
          edit(G01, '''    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape''', '''    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Reshape'''), "batch"))
add(wrong(K, "a sigmoid output, images in [0, 1]", edit(G01, 'activation="tanh"', 'activation="sigmoid"'), "tanh"))
add(wrong(K, "the PyTorch DCGAN's 4x4 kernels", G01.replace(", 5, strides", ", 4, strides"), "kernel"))
add(wrong(K, "copied from the TF tutorial: widths hard-coded to 256, 128, 64 whatever `filters`",
          edit(G01, "7 * 7 * filters", "7 * 7 * 256", "(7, 7, filters)", "(7, 7, 256)",
               "filters // 2,", "128,", "filters // 4,", "64,"), "filters"))
add(wrong(K, "input hard-coded to 100 noise values", edit(G01, "keras.Input((latent_dim,))", "keras.Input((100,))"),
          "latent"))
add(equivalent(K, "tuples for kernels and strides, positional slope, a separate tanh Activation", '''
def build_generator(latent_dim=100, filters=256):
    inputs = keras.Input(shape=(latent_dim,))
    h = layers.Dense(units=7 * 7 * filters, use_bias=False)(inputs)
    h = layers.LeakyReLU(0.3)(layers.BatchNormalization()(h))
    h = layers.Reshape(target_shape=(7, 7, filters))(h)
    for width, stride in ((filters // 2, 1), (filters // 4, 2)):
        h = layers.Conv2DTranspose(width, (5, 5), strides=(stride, stride), padding="same", use_bias=False)(h)
        h = layers.LeakyReLU(0.3)(layers.BatchNormalization()(h))
    h = layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False)(h)
    out = layers.Activation("tanh")(h)
    return keras.Model(inputs=inputs, outputs=out, name="my_dcgan_generator")
'''))
add(equivalent(K, "a keras.Sequential, as in the TF tutorial, with the widths from `filters`", '''
def build_generator(latent_dim=100, filters=256):
    model = keras.Sequential(name="generator")
    model.add(keras.Input(shape=(latent_dim,)))
    model.add(layers.Dense(7 * 7 * filters, use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(negative_slope=0.3))
    model.add(layers.Reshape((7, 7, filters)))
    model.add(layers.Conv2DTranspose(filters // 2, (5, 5), strides=(1, 1), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(negative_slope=0.3))
    model.add(layers.Conv2DTranspose(filters // 4, (5, 5), strides=(2, 2), padding="same", use_bias=False))
    model.add(layers.BatchNormalization())
    model.add(layers.LeakyReLU(negative_slope=0.3))
    model.add(layers.Conv2DTranspose(1, (5, 5), strides=(2, 2), padding="same", use_bias=False, activation="tanh"))
    return model
'''))

# ---- 01.train_step ------------------------------------------------------------------------------
S01 = '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(fake_logits)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
'''
K = "01.train_step"
add(wrong(K, "the generator called in inference mode (batch norm on moving statistics)",
          edit(S01, "generator(noise, training=True)", "generator(noise, training=False)"), "inference"))
add(wrong(K, "the discriminator called in inference mode (dropout off while it learns) (a miss on the blind run, named since)",
          edit(S01, "discriminator(real, training=True)", "discriminator(real, training=False)",
               "discriminator(fake, training=True)", "discriminator(fake, training=False)"), "training"))
add(wrong(K, "each network's gradients applied by the other one's optimizer",
          edit(S01, "d_optimizer.apply_gradients", "g_optimizer.apply_gradients",
               "    g_optimizer.apply_gradients(zip(g_grads", "    d_optimizer.apply_gradients(zip(g_grads"), "optimizer"))
add(wrong(K, "draws fresh noise inside the step instead of using `noise`",
          edit(S01, "fake = generator(noise, training=True)",
               "fake = generator(tf.random.normal(tf.shape(noise)), training=True)"), "noise"))
add(wrong(K, "one ordinary tape for both gradients",
          edit(S01, "with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:", "with tf.GradientTape() as tape:",
               "d_tape.gradient", "tape.gradient", "g_tape.gradient", "tape.gradient"), "persistent"))
add(wrong(K, "alternating update: G's loss recomputed against the updated D",
          '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    with tf.GradientTape() as g_tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
''', "simultaneous"))
add(wrong(K, "the fakes detached for both players (PyTorch's .detach() everywhere): G gets no gradient (a miss on the blind run, named since)",
          edit(S01, "fake_logits = discriminator(fake, training=True)",
               "fake_logits = discriminator(tf.stop_gradient(fake), training=True)"), "generator"))
add(wrong(K, "discriminator_loss given its arguments the wrong way round (a miss on the blind run, named since)",
          edit(S01, "discriminator_loss(real_logits, fake_logits)", "discriminator_loss(fake_logits, real_logits)"),
          "real"))
add(wrong(K, "the returned losses swapped", edit(S01, '{"d_loss": d_loss, "g_loss": g_loss}',
                                               '{"d_loss": g_loss, "g_loss": d_loss}'), "d_loss"))
add(equivalent(K, "one persistent tape, the generator updated first", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape(persistent=True) as tape:
        generated = generator(noise, training=True)
        logits_real = discriminator(real, training=True)
        logits_fake = discriminator(generated, training=True)
        g_loss = generator_loss(logits_fake)
        d_loss = discriminator_loss(logits_real, logits_fake)
    g_vars, d_vars = generator.trainable_variables, discriminator.trainable_variables
    g_grads, d_grads = tape.gradient(g_loss, g_vars), tape.gradient(d_loss, d_vars)
    del tape
    g_optimizer.apply_gradients(zip(g_grads, g_vars))
    d_optimizer.apply_gradients(zip(d_grads, d_vars))
    return {"d_loss": d_loss, "g_loss": g_loss}
'''))
add(equivalent(K, "nested tapes; D's loss on detached fakes (PyTorch style), G's on attached ones", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as gen_tape:
        with tf.GradientTape() as disc_tape:
            fake = generator(noise, training=True)
            d_loss = discriminator_loss(discriminator(real, training=True),
                                        discriminator(tf.stop_gradient(fake), training=True))
            g_loss = generator_loss(discriminator(fake, training=True))
    grads = {"d": disc_tape.gradient(d_loss, discriminator.trainable_variables),
             "g": gen_tape.gradient(g_loss, generator.trainable_variables)}
    d_optimizer.apply_gradients(list(zip(grads["d"], discriminator.trainable_variables)))
    g_optimizer.apply_gradients(list(zip(grads["g"], generator.trainable_variables)))
    return dict(d_loss=d_loss, g_loss=g_loss)
'''))

# =============================================================== lesson 02 =========================

# ---- 02.upsample_with_skip ----------------------------------------------------------------------
U02 = '''
def upsample_with_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    x = layers.ReLU()(x)
    return layers.Concatenate()([x, skip])
'''
K = "02.upsample_with_skip"
add(wrong(K, "concatenates along the height axis", edit(U02, "layers.Concatenate()", "layers.Concatenate(axis=1)"),
          "axis"))
add(wrong(K, "adds the skip instead of concatenating it", edit(U02, "layers.Concatenate()", "layers.Add()"), "skip"))
add(wrong(K, "LeakyReLU 0.2 as in the encoder", edit(U02, "layers.ReLU()", "layers.LeakyReLU(negative_slope=0.2)"),
          "leaky"))
add(wrong(K, "dropout whatever the flag", edit(U02, '''    if dropout:
        x = layers.Dropout(0.5)(x)''', '''    x = layers.Dropout(0.5)(x)'''), "dropout"))
add(wrong(K, "nearest upsampling and a convolution instead of a transposed convolution",
          edit(U02, 'layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)',
               'layers.Conv2D(filters, 4, padding="same", use_bias=False, kernel_initializer=INIT)(layers.UpSampling2D()(x))'),
          "transpose"))
add(wrong(K, "keeps the transposed convolution's bias", edit(U02, "use_bias=False, ", ""), "bias"))
add(wrong(K, "no batch norm", edit(U02, "    x = layers.BatchNormalization()(x)\n", ""), "batch"))
add(wrong(K, "Keras's default initialiser instead of INIT (a miss on the blind run, named since)", edit(U02, ", kernel_initializer=INIT", ""), "init"))
add(equivalent(K, "skip first, explicit channel axis, dropout after the ReLU (they commute)", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    up = layers.Conv2DTranspose(filters, (4, 4), strides=(2, 2), padding="same",
                                kernel_initializer=INIT, use_bias=False)(x)
    up = layers.Activation("relu")(layers.BatchNormalization()(up))
    if dropout:
        up = layers.Dropout(rate=0.5)(up)
    return layers.Concatenate(axis=-1)([skip, up])
'''))
add(equivalent(K, "the TF tutorial's Sequential block, then concatenate on axis 3", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    block = keras.Sequential()
    block.add(layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=INIT, use_bias=False))
    block.add(layers.BatchNormalization())
    if dropout:
        block.add(layers.Dropout(0.5))
    block.add(layers.ReLU())
    return layers.Concatenate(axis=3)([block(x), skip])
'''))

# ---- 02.unet ------------------------------------------------------------------------------------
N02 = '''
def build_unet(image_size=256, channels=3, filters=64):
    n = int(np.log2(image_size))
    widths = [min(filters * 2 ** i, filters * 8) for i in range(n)]
    inputs = keras.Input((image_size, image_size, channels))
    x, skips = inputs, []
    for i, f in enumerate(widths):
        if i == n - 1:
            x = layers.Conv2D(f, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
            x = layers.LeakyReLU(negative_slope=0.2)(x)
        else:
            x = downsample(x, f, norm=i > 0)
            skips.append(x)
    for j, (f, skip) in enumerate(zip(widths[-2::-1], skips[::-1])):
        x = upsample_with_skip(x, skip, f, dropout=j < 3)
    outputs = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT,
                                     activation="tanh")(x)
    return keras.Model(inputs, outputs)
'''
K = "02.unet"
add(wrong(K, "batch norm on the first encoder block too", edit(N02, "norm=i > 0", "norm=True"), "extra"))
add(wrong(K, "the TF tutorial's bottleneck: a downsample block with batch norm",
          edit(N02, '''            x = layers.Conv2D(f, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
            x = layers.LeakyReLU(negative_slope=0.2)(x)''', '''            x = downsample(x, f)'''), "bottleneck"))
add(wrong(K, "dropout in the first four decoder blocks", edit(N02, "dropout=j < 3", "dropout=j <= 3"), "dropout"))
add(wrong(K, "the widths capped at 512 whatever `filters`", edit(N02, "filters * 8)", "512)"), "filters"))
add(wrong(K, "one encoder block too few: a 2x2 bottleneck",
          edit(N02, "n = int(np.log2(image_size))", "n = int(np.log2(image_size)) - 1"), "bottleneck"))
add(wrong(K, "a linear output, no tanh", edit(N02, ''',
                                     activation="tanh")(x)''', ")(x)"), "tanh"))
add(wrong(K, "the output convolution without its bias",
          edit(N02, 'kernel_initializer=INIT,\n                                     activation="tanh"',
               'kernel_initializer=INIT, use_bias=False,\n                                     activation="tanh"'), "bias"))
add(wrong(K, "the skips joined in encoder order, not mirrored (a shape error)",
          edit(N02, "skips[::-1]", "skips"), "skip"))
add(equivalent(K, "a while loop on the size, widths and skips popped from a stack", '''
def build_unet(image_size=256, channels=3, filters=64):
    inputs = keras.Input(shape=(image_size, image_size, channels))
    x, size, width, stack, first = inputs, image_size, filters, [], True
    while size > 2:
        x = downsample(x, width, norm=not first)
        stack.append((x, width))
        first, size, width = False, size // 2, min(width * 2, 8 * filters)
    x = layers.Conv2D(width, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
    x = layers.LeakyReLU(0.2)(x)
    k = 0
    while stack:
        skip, w = stack.pop()
        x = upsample_with_skip(x, skip, w, dropout=k in (0, 1, 2))
        k += 1
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT)(x)
    return keras.Model(inputs, layers.Activation("tanh")(x))
'''))
add(equivalent(K, "the TF tutorial's lists of stacks, with the paper's bottleneck and the widths from `filters`", '''
def build_unet(image_size=256, channels=3, filters=64):
    depth = image_size.bit_length() - 1
    down_widths = [filters * min(2 ** i, 8) for i in range(depth)]
    up_widths = list(reversed(down_widths[:-1]))
    inputs = layers.Input(shape=[image_size, image_size, channels])
    x = inputs
    skips = []
    for i, w in enumerate(down_widths[:-1]):
        x = downsample(x, w, norm=(i != 0))
        skips.append(x)
    x = layers.LeakyReLU(negative_slope=0.2)(
        layers.Conv2D(down_widths[-1], 4, strides=2, padding="same", kernel_initializer=INIT, use_bias=True)(x))
    skips = reversed(skips)
    for i, (w, skip) in enumerate(zip(up_widths, skips)):
        x = upsample_with_skip(x, skip, w, dropout=i < 3)
    last = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", kernel_initializer=INIT, activation="tanh")
    return keras.Model(inputs=inputs, outputs=last(x))
'''))

# ---- 02.patchgan --------------------------------------------------------------------------------
P02 = '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    inp = keras.Input((image_size, image_size, channels))
    tar = keras.Input((image_size, image_size, channels))
    x = layers.Concatenate()([inp, tar])
    for i in range(n_down):
        x = downsample(x, filters * 2 ** i, norm=i > 0)
    x = layers.ZeroPadding2D()(x)
    x = layers.Conv2D(filters * 2 ** n_down, 4, strides=1, use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.ZeroPadding2D()(x)
    logits = layers.Conv2D(1, 4, strides=1, kernel_initializer=INIT)(x)
    return keras.Model([inp, tar], logits)
'''
K = "02.patchgan"
add(wrong(K, "batch norm on the first block", edit(P02, "norm=i > 0", "norm=True"), "extra"))
add(wrong(K, "'same' padding instead of the one-pixel zero paddings",
          edit(P02, "    x = layers.ZeroPadding2D()(x)\n", "", "strides=1, use_bias=False",
               'strides=1, padding="same", use_bias=False', "Conv2D(1, 4, strides=1,", 'Conv2D(1, 4, strides=1, padding="same",'),
          "pad"))
add(wrong(K, "a sigmoid on the output", edit(P02, "Conv2D(1, 4, strides=1, kernel_initializer=INIT)",
                                           'Conv2D(1, 4, strides=1, kernel_initializer=INIT, activation="sigmoid")'),
          "sigmoid"))
add(wrong(K, "the stride-1 convolution as wide as the last block, not twice",
          edit(P02, "filters * 2 ** n_down, 4", "filters * 2 ** (n_down - 1), 4"), "filters"))
add(wrong(K, "one downsample block too many", edit(P02, "range(n_down)", "range(n_down + 1)"), "n_down"))
add(wrong(K, "the logits' convolution without bias",
          edit(P02, "Conv2D(1, 4, strides=1, kernel_initializer=INIT)", "Conv2D(1, 4, strides=1, use_bias=False, kernel_initializer=INIT)"),
          "bias"))
add(wrong(K, "the stride-1 convolution made stride 2",
          edit(P02, "filters * 2 ** n_down, 4, strides=1", "filters * 2 ** n_down, 4, strides=2"), "stride"))
add(wrong(K, "no batch norm after the stride-1 convolution (and its bias kept)",
          edit(P02, "    x = layers.BatchNormalization()(x)\n", "", "strides=1, use_bias=False", "strides=1"), "batch"))
add(equivalent(K, "target first in the concatenation, padding spelled out", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    x_in = keras.Input(shape=(image_size, image_size, channels), name="x")
    y_in = keras.Input(shape=(image_size, image_size, channels), name="y")
    h = layers.Concatenate(axis=-1)([y_in, x_in])
    width = filters
    for i in range(n_down):
        h = downsample(h, width, norm=(i != 0))
        width *= 2
    h = layers.ZeroPadding2D(padding=(1, 1))(h)
    h = layers.Conv2D(width, (4, 4), strides=(1, 1), padding="valid", kernel_initializer=INIT, use_bias=False)(h)
    h = layers.LeakyReLU(0.2)(layers.BatchNormalization()(h))
    h = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(h)
    out = layers.Conv2D(1, (4, 4), padding="valid", kernel_initializer=INIT)(h)
    return keras.Model(inputs=[x_in, y_in], outputs=out)
'''))
add(equivalent(K, "the TF tutorial's discriminator generalised to n_down", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    inp = layers.Input(shape=[image_size, image_size, channels], name="input_image")
    tar = layers.Input(shape=[image_size, image_size, channels], name="target_image")
    x = layers.concatenate([inp, tar])
    x = downsample(x, filters, norm=False)
    for i in range(1, n_down):
        x = downsample(x, filters * 2 ** i)
    zero_pad1 = layers.ZeroPadding2D()(x)
    conv = layers.Conv2D(filters * 2 ** n_down, 4, strides=1, kernel_initializer=INIT, use_bias=False)(zero_pad1)
    leaky_relu = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(conv))
    zero_pad2 = layers.ZeroPadding2D()(leaky_relu)
    last = layers.Conv2D(1, 4, strides=1, kernel_initializer=INIT)(zero_pad2)
    return keras.Model(inputs=[inp, tar], outputs=last)
'''))

# ---- 02.receptive_field -------------------------------------------------------------------------
K = "02.receptive_field"
add(wrong(K, "walks the layers from the input forwards", '''
def receptive_field(layer_list):
    field = 1
    for kernel, stride, _ in layer_list:
        field = (field - 1) * stride + kernel
    return field
''', "output"))
add(wrong(K, "adds kernel - 1 per layer, ignoring the strides", '''
def receptive_field(layer_list):
    field = 1
    for kernel, stride, padding in layer_list:
        field += kernel - 1
    return field
''', "stride"))
add(wrong(K, "field * stride + kernel: off by one stride per layer", '''
def receptive_field(layer_list):
    field = 1
    for kernel, stride, padding in reversed(layer_list):
        field = field * stride + kernel
    return field
''', "- 1"))
add(wrong(K, "subtracts the padding", '''
def receptive_field(layer_list):
    field = 1
    for kernel, stride, padding in reversed(list(layer_list)):
        field = (field - 1) * stride + kernel - 2 * padding
    return field
''', "padding"))
add(wrong(K, "starts from zero cells", '''
def receptive_field(layer_list):
    field = 0
    for kernel, stride, padding in reversed(list(layer_list)):
        field = (field - 1) * stride + kernel
    return field
''', "one"))
add(equivalent(K, "the closed form 1 + sum (k - 1) * product of the earlier strides", '''
def receptive_field(layer_list):
    field, jump = 1, 1
    for kernel, stride, _padding in layer_list:
        field += (kernel - 1) * jump
        jump *= stride
    return field
'''))
add(equivalent(K, "recursion from the last layer", '''
def receptive_field(layer_list):
    layer_list = list(layer_list)
    def back(i, r):
        if i < 0:
            return r
        k, s, _ = layer_list[i]
        return back(i - 1, (r - 1) * s + k)
    return back(len(layer_list) - 1, 1)
'''))

# ---- 02.generator_loss --------------------------------------------------------------------------
L02 = '''
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    adversarial = bce(tf.ones_like(fake_logits), fake_logits)
    l1 = tf.reduce_mean(tf.abs(target - generated))
    return adversarial + l1_weight * l1, adversarial, l1
'''
K = "02.generator_loss"
add(wrong(K, "squared error (L2) instead of L1", edit(L02, "tf.abs(target - generated)", "tf.square(target - generated)"),
          "l1"))
add(wrong(K, "returns the weighted L1 as the third part",
          edit(L02, "return adversarial + l1_weight * l1, adversarial, l1",
               "l1 = l1_weight * l1\n    return adversarial + l1, adversarial, l1"), "weight"))
add(wrong(K, "label 0 for the generator's fakes", edit(L02, "tf.ones_like(fake_logits)", "tf.zeros_like(fake_logits)"),
          "label"))
add(wrong(K, "the L1 summed over pixels (a miss on the blind run, named since)", edit(L02, "tf.reduce_mean(tf.abs", "tf.reduce_sum(tf.abs"), "mean"))
add(wrong(K, "the weight hard-coded to 100", edit(L02, "adversarial + l1_weight * l1", "adversarial + 100.0 * l1"),
          "l1_weight"))
add(wrong(K, "the weight put on the adversarial term", edit(L02, "adversarial + l1_weight * l1", "l1_weight * adversarial + l1"),
          "weight"))
add(equivalent(K, "Keras's MeanAbsoluteError and the tutorial's names", '''
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    gan_loss = bce(tf.ones_like(fake_logits), fake_logits)
    l1_loss = keras.losses.MeanAbsoluteError()(target, generated)
    total_gen_loss = gan_loss + (l1_weight * l1_loss)
    return total_gen_loss, gan_loss, l1_loss
'''))
add(equivalent(K, "softplus for the BCE, ops for the L1", '''
def generator_loss(fake_logits, generated, target, l1_weight=100.0):
    adv = ops.mean(ops.softplus(-fake_logits))
    l1 = ops.mean(ops.abs(generated - target))
    return adv + l1 * l1_weight, adv, l1
'''))

# ---- 02.train_step ------------------------------------------------------------------------------
S02 = '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)
        real_logits = discriminator([x, y], training=True)
        fake_logits = discriminator([x, fake], training=True)
        g_total, g_adv, g_l1 = generator_loss(fake_logits, fake, y, l1_weight)
        d_loss = discriminator_loss(real_logits, fake_logits)
    d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
'''
K = "02.train_step"
add(wrong(K, "the discriminator conditioned on the target instead of the input (a miss on the blind run, named since)",
          edit(S02, "discriminator([x, fake], training=True)", "discriminator([y, fake], training=True)"), "input"))
add(wrong(K, "the real pair given as (y, x), the generated one as (x, G(x))",
          edit(S02, "discriminator([x, y], training=True)", "discriminator([y, x], training=True)"), "pair"))
add(wrong(K, "l1_weight not passed on: the generator loss's default 100 is used",
          edit(S02, "generator_loss(fake_logits, fake, y, l1_weight)", "generator_loss(fake_logits, fake, y)"),
          "l1_weight"))
add(wrong(K, "the generator in inference mode (batch norm on moving statistics) (a miss on the blind run, named since)",
          edit(S02, "generator(x, training=True)", "generator(x, training=False)"), "training"))
add(wrong(K, "the generator's gradient of the adversarial term only (a miss on the blind run, named since)",
          edit(S02, "gen_tape.gradient(g_total,", "gen_tape.gradient(g_adv,"), "total"))
add(wrong(K, "the optimizers swapped", edit(S02, "disc_optimizer.apply_gradients", "OPT_D.apply_gradients",
                                          "gen_optimizer.apply_gradients", "disc_optimizer.apply_gradients",
                                          "OPT_D.apply_gradients", "gen_optimizer.apply_gradients"), "optimizer"))
add(wrong(K, "the fakes detached before D for both losses: G learns from L1 only (a miss on the blind run, named since)",
          edit(S02, "discriminator([x, fake], training=True)", "discriminator([x, tf.stop_gradient(fake)], training=True)"),
          "adversarial"))
add(wrong(K, "returns the adversarial part as g_loss", edit(S02, '"g_loss": g_total', '"g_loss": g_adv'), "g_loss"))
add(wrong(K, "alternating: D updated, then G's losses against the updated D", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as disc_tape:
        fake = generator(x, training=True)
        d_loss = discriminator_loss(discriminator([x, y], training=True), discriminator([x, fake], training=True))
    d_grads = disc_tape.gradient(d_loss, discriminator.trainable_variables)
    disc_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    with tf.GradientTape() as gen_tape:
        fake = generator(x, training=True)
        g_total, g_adv, g_l1 = generator_loss(discriminator([x, fake], training=True), fake, y, l1_weight)
    g_grads = gen_tape.gradient(g_total, generator.trainable_variables)
    gen_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
''', "simultaneous"))
add(equivalent(K, "one persistent tape, the generator updated first", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape(persistent=True) as tape:
        gen_output = generator(x, training=True)
        disc_real_output = discriminator([x, y], training=True)
        disc_generated_output = discriminator([x, gen_output], training=True)
        total, gan, l1 = generator_loss(disc_generated_output, gen_output, y, l1_weight=l1_weight)
        disc = discriminator_loss(disc_real_output, disc_generated_output)
    gen_optimizer.apply_gradients(zip(tape.gradient(total, generator.trainable_variables), generator.trainable_variables))
    disc_optimizer.apply_gradients(zip(tape.gradient(disc, discriminator.trainable_variables),
                                       discriminator.trainable_variables))
    del tape
    return {"g_loss": total, "g_adv": gan, "g_l1": l1, "d_loss": disc}
'''))
add(equivalent(K, "nested tapes and a loop over (loss, tape, net, optimizer)", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as d_tape:
        with tf.GradientTape() as g_tape:
            fake = generator(x, training=True)
            logits_fake = discriminator([x, fake], training=True)
            logits_real = discriminator([x, y], training=True)
            g_loss, g_adv, g_l1 = generator_loss(logits_fake, fake, y, l1_weight)
            d_loss = discriminator_loss(logits_real, logits_fake)
    pairs = [(g_loss, g_tape, generator, gen_optimizer), (d_loss, d_tape, discriminator, disc_optimizer)]
    grads = [(tape.gradient(loss, net.trainable_variables), net, opt) for loss, tape, net, opt in pairs]
    for g, net, opt in grads:
        opt.apply_gradients(zip(g, net.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss, "g_adv": g_adv, "g_l1": g_l1}
'''))

# =============================================================== lesson 03 =========================

# ---- 03.cycle_loss ------------------------------------------------------------------------------
C03 = '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    forward = tf.reduce_mean(tf.abs(cycled_x - real_x))
    backward = tf.reduce_mean(tf.abs(cycled_y - real_y))
    return weight * (forward + backward)
'''
K = "03.cycle_loss"
add(wrong(K, "the forward cycle only", edit(C03, "weight * (forward + backward)", "weight * forward"), "only"))
add(wrong(K, "squared error", C03.replace("tf.abs(", "tf.square("), "squared"))
add(wrong(K, "forgets the weight", edit(C03, "weight * (forward + backward)", "forward + backward"), "weight"))
add(wrong(K, "averages the two directions", edit(C03, "weight * (forward + backward)", "weight * (forward + backward) / 2"),
          "half"))
add(wrong(K, "sums over pixels (a miss on the blind run, named since)", C03.replace("tf.reduce_mean(", "tf.reduce_sum("), "mean"))
add(wrong(K, "each cycled batch compared with the other domain's real batch",
          edit(C03, "cycled_x - real_x", "cycled_x - real_y", "cycled_y - real_y", "cycled_y - real_x"), "started from"))
add(equivalent(K, "Keras's MeanAbsoluteError, the weight on each term", '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    mae = keras.losses.MeanAbsoluteError()
    return weight * mae(real_x, cycled_x) + weight * mae(real_y, cycled_y)
'''))
add(equivalent(K, "keras.ops, both batches stacked", '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    errors = ops.stack([ops.mean(ops.abs(real_x - cycled_x)), ops.mean(ops.abs(real_y - cycled_y))])
    return ops.sum(errors) * weight
'''))

# ---- 03.identity_term ---------------------------------------------------------------------------
I03 = '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    return weight * (tf.reduce_mean(tf.abs(same_y - real_y)) + tf.reduce_mean(tf.abs(same_x - real_x)))
'''
K = "03.identity_term"
add(wrong(K, "G(y) compared with x and F(x) with y",
          edit(I03, "same_y - real_y", "same_y - real_x", "same_x - real_x", "same_x - real_y"), "other domain"))
add(wrong(K, "halves the weight again (0.5 * weight, reading 0.5 lambda)", edit(I03, "return weight *", "return 0.5 * weight *"),
          "weight"))
add(wrong(K, "squared error (a miss on the blind run, named since)", I03.replace("tf.abs(", "tf.square("), "squared"))
add(wrong(K, "G's term only", edit(I03, " + tf.reduce_mean(tf.abs(same_x - real_x))", ""), "only"))
add(wrong(K, "sums over pixels (a miss on the blind run, named since)", I03.replace("tf.reduce_mean(", "tf.reduce_sum("), "mean"))
add(equivalent(K, "keras.ops, one term per line", '''
def identity_term(real_x, same_x, real_y, same_y, weight=5.0):
    g_term = ops.mean(ops.abs(real_y - same_y))
    f_term = ops.mean(ops.abs(real_x - same_x))
    return weight * g_term + weight * f_term
'''))

# ---- 03.instance_norm ---------------------------------------------------------------------------
N03 = '''
class InstanceNormalization(layers.Layer):
    def __init__(self, epsilon=1e-5, affine=False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon, self.affine = float(epsilon), bool(affine)

    def build(self, input_shape):
        if self.affine:
            self.gamma = self.add_weight(name="gamma", shape=(input_shape[-1],), initializer="ones")
            self.beta = self.add_weight(name="beta", shape=(input_shape[-1],), initializer="zeros")

    def call(self, x):
        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) / ops.sqrt(var + self.epsilon)
        if self.affine:
            y = y * self.gamma + self.beta
        return y

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "affine": self.affine}
'''
K = "03.instance_norm"
add(wrong(K, "statistics over the batch too (batch norm)", edit(N03, "axes=[1, 2]", "axes=[0, 1, 2]"), "batch"))
add(wrong(K, "statistics over the channels too (layer norm)", edit(N03, "axes=[1, 2]", "axes=[1, 2, 3]"), "channel"))
add(wrong(K, "epsilon added to the standard deviation, outside the root",
          edit(N03, "ops.sqrt(var + self.epsilon)", "(ops.sqrt(var) + self.epsilon)"), "epsilon"))
add(wrong(K, "divides by the variance, not the standard deviation",
          edit(N03, "ops.sqrt(var + self.epsilon)", "(var + self.epsilon)"), "standard deviation"))
add(wrong(K, "never applies gamma and beta", edit(N03, '''        if self.affine:
            y = y * self.gamma + self.beta
''', ""), "affine"))
add(wrong(K, "gamma and beta swapped (a miss on the blind run, named since)", edit(N03, "y * self.gamma + self.beta", "y * self.beta + self.gamma"), "gamma"))
add(wrong(K, "the statistics without keepdims (a broadcasting error) (a miss on the blind run, named since)",
          edit(N03, "axes=[1, 2], keepdims=True", "axes=[1, 2]"), "keepdims"))
add(wrong(K, "epsilon hard-coded to Keras's 1e-3 (a miss on the blind run, named since)", edit(N03, "ops.sqrt(var + self.epsilon)", "ops.sqrt(var + 1e-3)"),
          "epsilon"))
add(equivalent(K, "mean and var separately, rsqrt", edit(N03, '''        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) / ops.sqrt(var + self.epsilon)''', '''        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        var = ops.var(x, axis=(1, 2), keepdims=True)
        y = (x - mean) * ops.rsqrt(var + self.epsilon)''')))
add(equivalent(K, "tf.nn.moments, variance as the mean square of the centred values", edit(N03, '''        mean, var = ops.moments(x, axes=[1, 2], keepdims=True)
        y = (x - mean) / ops.sqrt(var + self.epsilon)
        if self.affine:
            y = y * self.gamma + self.beta
        return y''', '''        centred = x - tf.reduce_mean(x, axis=[1, 2], keepdims=True)
        var = tf.reduce_mean(tf.square(centred), axis=[1, 2], keepdims=True)
        y = centred / tf.sqrt(var + self.epsilon)
        if not self.affine:
            return y
        return self.gamma[None, None, None, :] * y + self.beta[None, None, None, :]''')))

# ---- 03.my_residual_block -----------------------------------------------------------------------
R03 = '''
def my_residual_block(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)
    y = InstanceNormalization()(y)
    y = layers.ReLU()(y)
    y = ReflectionPadding2D(1)(y)
    y = layers.Conv2D(filters, 3, padding="valid", kernel_initializer=INIT)(y)
    y = InstanceNormalization()(y)
    return layers.Add()([x, y])
'''
K = "03.my_residual_block"
add(wrong(K, "zero 'same' padding instead of reflection padding",
          R03.replace("    y = ReflectionPadding2D(1)(x)\n", "    y = x\n").replace("    y = ReflectionPadding2D(1)(y)\n", "")
          .replace('padding="valid"', 'padding="same"'), "reflect"))
add(wrong(K, "ReLU after the addition (the original ResNet block)",
          edit(R03, "return layers.Add()([x, y])", "return layers.ReLU()(layers.Add()([x, y]))"), "relu"))
add(wrong(K, "no addition of the input: a plain block", edit(R03, "return layers.Add()([x, y])", "return y"), "add"))
add(wrong(K, "batch norm instead of instance norm", R03.replace("InstanceNormalization()", "layers.BatchNormalization()"),
          "instance"))
add(wrong(K, "drops the biases (a bias before a norm cancels)", R03.replace("kernel_initializer=INIT)", "kernel_initializer=INIT, use_bias=False)"),
          "bias"))
add(wrong(K, "the PyTorch code's use_dropout: Dropout(0.5) between the two convolutions",
          edit(R03, "    y = layers.ReLU()(y)\n", "    y = layers.ReLU()(y)\n    y = layers.Dropout(0.5)(y)\n"), "dropout"))
add(wrong(K, "Keras's default initialiser", R03.replace(", kernel_initializer=INIT", ""), "init"))
add(wrong(K, "concatenates the input instead of adding it", edit(R03, "layers.Add()([x, y])", "layers.Concatenate()([x, y])"),
          "add"))
add(equivalent(K, "a loop over the two convolutions, Activation('relu'), y + x with keras.layers.add", '''
def my_residual_block(x, filters):
    h = x
    for i in range(2):
        h = ReflectionPadding2D(1)(h)
        h = layers.Conv2D(filters, (3, 3), strides=1, padding="valid", kernel_initializer=INIT, use_bias=True)(h)
        h = InstanceNormalization()(h)
        if i == 0:
            h = layers.Activation("relu")(h)
    return layers.add([h, x])
'''))
add(equivalent(K, "named layers, the input second in the Add", '''
def my_residual_block(x, filters):
    pad1, pad2 = ReflectionPadding2D(1), ReflectionPadding2D(1)
    conv1 = layers.Conv2D(filters, 3, kernel_initializer=INIT)
    conv2 = layers.Conv2D(filters, 3, kernel_initializer=INIT)
    norm1, norm2 = InstanceNormalization(), InstanceNormalization()
    change = norm2(conv2(pad2(layers.ReLU()(norm1(conv1(pad1(x)))))))
    return layers.Add()([change, x])
'''))

# ---- 03.resnet_generator ------------------------------------------------------------------------
G03 = '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    inp = keras.Input((image_size, image_size, 3))
    x = ReflectionPadding2D(3)(inp)
    x = conv_norm_relu(x, filters, 7, padding="valid")
    x = conv_norm_relu(x, filters * 2, 3, strides=2)
    x = conv_norm_relu(x, filters * 4, 3, strides=2)
    for _ in range(n_blocks):
        x = my_residual_block(x, filters * 4)
    x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)
    x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)
    x = ReflectionPadding2D(3)(x)
    out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)
    return keras.Model(inp, out)
'''
K = "03.resnet_generator"
add(wrong(K, "one residual block too few", edit(G03, "range(n_blocks)", "range(n_blocks - 1)"), "block"))
add(wrong(K, "the stem on zero 'same' padding instead of reflection",
          edit(G03, '''    x = ReflectionPadding2D(3)(inp)
    x = conv_norm_relu(x, filters, 7, padding="valid")''', '''    x = conv_norm_relu(inp, filters, 7)'''), "reflect"))
add(wrong(K, "a sigmoid output", edit(G03, 'activation="tanh"', 'activation="sigmoid"'), "tanh"))
add(wrong(K, "resize-convolution upsampling instead of transposed convolutions",
          edit(G03, "x = conv_norm_relu(x, filters * 2, 3, strides=2, transpose=True)",
               "x = conv_norm_relu(layers.UpSampling2D()(x), filters * 2, 3)",
               "x = conv_norm_relu(x, filters, 3, strides=2, transpose=True)",
               "x = conv_norm_relu(layers.UpSampling2D()(x), filters, 3)"), "transpose"))
add(wrong(K, "the second downsampling keeps the width at 2 * filters (blocks and up path to match)",
          edit(G03, "x = conv_norm_relu(x, filters * 4, 3, strides=2)", "x = conv_norm_relu(x, filters * 2, 3, strides=2)",
               "my_residual_block(x, filters * 4)", "my_residual_block(x, filters * 2)"), "filters"))
add(wrong(K, "the residual blocks given `filters` (a shape error at the addition)",
          edit(G03, "my_residual_block(x, filters * 4)", "my_residual_block(x, filters)"), "residual"))
add(wrong(K, "the last convolution on 'same' zero padding",
          edit(G03, '''    x = ReflectionPadding2D(3)(x)
    out = layers.Conv2D(3, 7, activation="tanh"''', '''    out = layers.Conv2D(3, 7, padding="same", activation="tanh"'''), "reflect"))
add(wrong(K, "the input size hard-coded to 256", edit(G03, "keras.Input((image_size, image_size, 3))", "keras.Input((256, 256, 3))"),
          "input"))
add(wrong(K, "instance norm and ReLU on the output layer before the tanh",
          edit(G03, '''    out = layers.Conv2D(3, 7, activation="tanh", kernel_initializer=INIT)(x)''',
               '''    x = conv_norm_relu(x, 3, 7, padding="valid")
    out = layers.Activation("tanh")(x)'''), "norm"))
add(equivalent(K, "explicit layers instead of conv_norm_relu, loops over the widths", '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    def block(h, width, kernel, strides=1, up=False, padding="same"):
        conv = (layers.Conv2DTranspose if up else layers.Conv2D)(width, kernel, strides=strides, padding=padding,
                                                                  kernel_initializer=INIT)
        return layers.Activation("relu")(InstanceNormalization()(conv(h)))
    images = keras.Input(shape=(image_size, image_size, 3))
    h = block(ReflectionPadding2D(3)(images), filters, 7, padding="valid")
    for mult in (2, 4):
        h = block(h, filters * mult, 3, strides=2)
    for _ in range(n_blocks):
        h = my_residual_block(h, 4 * filters)
    for mult in (2, 1):
        h = block(h, filters * mult, 3, strides=2, up=True)
    h = layers.Conv2D(3, 7, padding="valid", kernel_initializer=INIT)(ReflectionPadding2D(3)(h))
    return keras.Model(images, layers.Activation("tanh")(h))
'''))
add(equivalent(K, "strides as tuples, the blocks' width from the tensor", '''
def my_resnet_generator(image_size=256, n_blocks=9, filters=64):
    inputs = layers.Input(shape=[image_size, image_size, 3])
    x = conv_norm_relu(ReflectionPadding2D(3)(inputs), filters, 7, strides=1, padding="valid")
    x = conv_norm_relu(x, 2 * filters, 3, strides=(2, 2), padding="same")
    x = conv_norm_relu(x, 4 * filters, 3, strides=(2, 2), padding="same")
    blocks = 0
    while blocks < n_blocks:
        x = my_residual_block(x, x.shape[-1])
        blocks += 1
    x = conv_norm_relu(x, 2 * filters, 3, strides=(2, 2), transpose=True)
    x = conv_norm_relu(x, filters, 3, strides=(2, 2), transpose=True)
    out = layers.Conv2D(3, (7, 7), padding="valid", kernel_initializer=INIT, activation="tanh")(ReflectionPadding2D(3)(x))
    return keras.Model(inputs=inputs, outputs=out)
'''))

# ---- 03.image_pool ------------------------------------------------------------------------------
POOL_HEAD = '''
class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed = pool_size, seed
        self.images = []
        self.queries = 0

    def draws(self, n):
        u = tf.random.stateless_uniform((n, 2), seed=(self.seed, self.queries)).numpy()
        self.queries += 1
        return u[:, 0], np.minimum((u[:, 1] * self.pool_size).astype(int), self.pool_size - 1)
'''
M03 = POOL_HEAD + '''
    def query(self, images):
        coins, slots = self.draws(len(images))
        shown = []
        for i, image in enumerate(images):
            if len(self.images) < self.pool_size:
                self.images.append(image)
                shown.append(image)
            elif coins[i] < 0.5:
                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)
            else:
                shown.append(image)
        return np.stack(shown)
'''
K = "03.image_pool"
add(wrong(K, "'the last 50': once full, the oldest is dropped, an old one shown on heads",
          edit(M03, '''                old = self.images[slots[i]]
                self.images[slots[i]] = image
                shown.append(old)''', '''                shown.append(self.images.pop(0))
                self.images.append(image)'''), "slot"))
add(wrong(K, "heads and tails the other way round", edit(M03, "coins[i] < 0.5", "coins[i] >= 0.5"), "heads"))
add(wrong(K, "shows a stored fake on heads but never replaces it",
          edit(M03, "                self.images[slots[i]] = image\n", ""), "place"))
add(wrong(K, "on heads stores the new fake but shows it instead of the stored one",
          edit(M03, "shown.append(old)", "shown.append(image)"), "old"))
add(wrong(K, "its own random numbers instead of self.draws", edit(M03, "coins, slots = self.draws(len(images))", '''coins = np.random.random(len(images))
        slots = np.random.randint(0, self.pool_size, len(images))'''), "coins"))
add(wrong(K, "fills to pool_size + 1", edit(M03, "len(self.images) < self.pool_size", "len(self.images) <= self.pool_size"),
          "pool_size"))
add(wrong(K, "one coin for the whole batch", edit(M03, "coins[i] < 0.5", "coins[0] < 0.5"), "coins[i]"))
add(equivalent(K, "index loop, copies stored, early continue", POOL_HEAD + '''
    def query(self, images):
        images = np.asarray(images)
        coins, slots = self.draws(images.shape[0])
        out = np.empty_like(images)
        for i in range(images.shape[0]):
            new = images[i].copy()
            if len(self.images) < self.pool_size:
                self.images.append(new)
                out[i] = new
                continue
            if coins[i] >= 0.5:
                out[i] = new
                continue
            out[i], self.images[slots[i]] = self.images[slots[i]], new
        return out
'''))
add(equivalent(K, "zip over the draws, a list comprehension at the end", POOL_HEAD + '''
    def query(self, images):
        chosen = []
        for image, coin, slot in zip(images, *self.draws(len(images))):
            if len(self.images) >= self.pool_size and coin < 0.5:
                self.images[slot], image = image, self.images[slot]
            elif len(self.images) < self.pool_size:
                self.images.append(image)
            chosen.append(image)
        return np.stack([np.asarray(c) for c in chosen], axis=0)
'''))

# ---- 03.train_step ------------------------------------------------------------------------------
T03 = '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        fake_y = G(x, training=True)
        cycled_x = F(fake_y, training=True)
        fake_x = F(y, training=True)
        cycled_y = G(fake_x, training=True)
        same_y = G(y, training=True)
        same_x = F(x, training=True)
        real_x_s, real_y_s = D_X(x, training=True), D_Y(y, training=True)
        fake_x_s, fake_y_s = D_X(fake_x, training=True), D_Y(fake_y, training=True)
        pool_x_s = D_X(pool_x.query(fake_x), training=True)
        pool_y_s = D_Y(pool_y.query(fake_y), training=True)
        cycle = (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))
        g_loss = losses.generator_loss(fake_y_s, form) + cycle + losses.identity_loss(y, same_y, identity_weight)
        f_loss = losses.generator_loss(fake_x_s, form) + cycle + losses.identity_loss(x, same_x, identity_weight)
        dx_loss = losses.discriminator_loss(real_x_s, pool_x_s, form, halve=True)
        dy_loss = losses.discriminator_loss(real_y_s, pool_y_s, form, halve=True)
    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
    del tape
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''
K = "03.train_step"
add(wrong(K, "an ordinary tape for four gradients", edit(T03, "tf.GradientTape(persistent=True)", "tf.GradientTape()",
                                                       "    del tape\n", ""), "persistent"))
add(wrong(K, "the discriminators shown the fresh fakes, not the pool's",
          edit(T03, "D_X(pool_x.query(fake_x), training=True)", "D_X(fake_x, training=True)",
               "D_Y(pool_y.query(fake_y), training=True)", "D_Y(fake_y, training=True)"), "pool"))
add(wrong(K, "each generator given only the cycle that starts with it (a miss on the blind run, named since)",
          edit(T03, "g_loss = losses.generator_loss(fake_y_s, form) + cycle",
               "g_loss = losses.generator_loss(fake_y_s, form) + losses.cycle_consistency_loss(x, cycled_x, cycle_weight)",
               "f_loss = losses.generator_loss(fake_x_s, form) + cycle",
               "f_loss = losses.generator_loss(fake_x_s, form) + losses.cycle_consistency_loss(y, cycled_y, cycle_weight)"),
          "both"))
add(wrong(K, "the identity terms swapped between G and F",
          edit(T03, "losses.identity_loss(y, same_y, identity_weight)", "IDG", "losses.identity_loss(x, same_x, identity_weight)",
               "losses.identity_loss(y, same_y, identity_weight)", "IDG", "losses.identity_loss(x, same_x, identity_weight)"),
          "identity"))
add(wrong(K, "the pool's fakes scored for the generators' adversarial terms too (no gradient through old fakes)",
          edit(T03, "fake_x_s, fake_y_s = D_X(fake_x, training=True), D_Y(fake_y, training=True)", "",
               "pool_x_s = D_X(pool_x.query(fake_x), training=True)", "pool_x_s = fake_x_s = D_X(pool_x.query(fake_x), training=True)",
               "pool_y_s = D_Y(pool_y.query(fake_y), training=True)", "pool_y_s = fake_y_s = D_Y(pool_y.query(fake_y), training=True)"),
          "pool"))
add(wrong(K, "G's gradients applied by F's optimizer and F's by G's",
          edit(T03, "(g_loss, G, opt_G), (f_loss, F, opt_F)", "(g_loss, G, opt_F), (f_loss, F, opt_G)"), "optimizer"))
add(wrong(K, "the discriminator losses not halved", T03.replace("halve=True", "halve=False"), "halve"))
add(wrong(K, "the adversarial form hard-coded to least squares",
          T03.replace("losses.generator_loss(fake_y_s, form)", 'losses.generator_loss(fake_y_s, "lsgan")')
          .replace("losses.generator_loss(fake_x_s, form)", 'losses.generator_loss(fake_x_s, "lsgan")')
          .replace("pool_x_s, form,", 'pool_x_s, "lsgan",').replace("pool_y_s, form,", 'pool_y_s, "lsgan",'), "form"))
add(wrong(K, "the cycle weight applied twice (a miss on the blind run, named since)", edit(T03, '''        cycle = (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                 + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))''',
                                                   '''        cycle = cycle_weight * (losses.cycle_consistency_loss(x, cycled_x, cycle_weight)
                                + losses.cycle_consistency_loss(y, cycled_y, cycle_weight))'''), "weight"))
add(wrong(K, "D_X scores G's fakes and D_Y F's (the domains crossed) (a miss on the blind run, named since)",
          edit(T03, "fake_x_s, fake_y_s = D_X(fake_x, training=True), D_Y(fake_y, training=True)",
               "fake_x_s, fake_y_s = D_Y(fake_x, training=True), D_X(fake_y, training=True)"), "domain"))
add(equivalent(K, "four tapes, the discriminators updated first, the cycle summed once", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape() as tg, tf.GradientTape() as tf_, tf.GradientTape() as tdx, tf.GradientTape() as tdy:
        fake_y, fake_x = G(x, training=True), F(y, training=True)
        cycle = (losses.cycle_consistency_loss(x, F(fake_y, training=True), cycle_weight)
                 + losses.cycle_consistency_loss(y, G(fake_x, training=True), cycle_weight))
        id_g = losses.identity_loss(y, G(y, training=True), identity_weight)
        id_f = losses.identity_loss(x, F(x, training=True), identity_weight)
        g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cycle + id_g
        f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cycle + id_f
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(pool_x.query(fake_x), training=True), form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(pool_y.query(fake_y), training=True), form, halve=True)
    updates = [(tdx, dx_loss, D_X, opt_DX), (tdy, dy_loss, D_Y, opt_DY), (tg, g_loss, G, opt_G), (tf_, f_loss, F, opt_F)]
    grads = [t.gradient(l, n.trainable_variables) for t, l, n, _ in updates]
    for g, (_, _, n, o) in zip(grads, updates):
        o.apply_gradients(zip(g, n.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''))
add(equivalent(K, "the generators' shared part written out, explicit gradient calls", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        g_x = G(x, training=True)
        f_y = F(y, training=True)
        f_g_x = F(g_x, training=True)
        g_f_y = G(f_y, training=True)
        cyc_forward = losses.cycle_consistency_loss(x, f_g_x, cycle_weight)
        cyc_backward = losses.cycle_consistency_loss(y, g_f_y, cycle_weight)
        cycle = cyc_forward + cyc_backward
        adv_g = losses.generator_loss(D_Y(g_x, training=True), form)
        adv_f = losses.generator_loss(D_X(f_y, training=True), form)
        g_loss = adv_g + cyc_forward + cyc_backward + losses.identity_loss(y, G(y, training=True), identity_weight)
        f_loss = adv_f + cyc_backward + cyc_forward + losses.identity_loss(x, F(x, training=True), identity_weight)
        pooled_x, pooled_y = pool_x.query(f_y), pool_y.query(g_x)
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(pooled_x, training=True), form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(pooled_y, training=True), form, halve=True)
    g_vars, f_vars = G.trainable_variables, F.trainable_variables
    opt_G.apply_gradients(zip(tape.gradient(g_loss, g_vars), g_vars))
    opt_F.apply_gradients(zip(tape.gradient(f_loss, f_vars), f_vars))
    opt_DX.apply_gradients(zip(tape.gradient(dx_loss, D_X.trainable_variables), D_X.trainable_variables))
    opt_DY.apply_gradients(zip(tape.gradient(dy_loss, D_Y.trainable_variables), D_Y.trainable_variables))
    del tape
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''))

# =============================================================== lesson 04 =========================

# ---- 04.linear_decay ----------------------------------------------------------------------------
K = "04.linear_decay"
add(wrong(K, "decays from step 0: no constant phase", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    return lr0 * np.clip(1.0 - step / decay_steps, 0.0, 1.0)
''', "step 0"))
add(wrong(K, "not clipped: negative rates after the decay", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    return lr0 * np.minimum(1.0, 1.0 - (step - constant_steps) / decay_steps)
''', "negative"))
add(wrong(K, "the PyTorch code's rule: one step early and over decay_steps + 1 (a miss on the blind run, named since)", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step, dtype=np.float64)
    return lr0 * (1.0 - np.maximum(0.0, step + 1 - constant_steps) / float(decay_steps + 1))
''', "decay_steps"))
add(wrong(K, "Python if on the array (works for one step only)", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    if step < constant_steps:
        return lr0
    return lr0 * max(0.0, 1.0 - (step - constant_steps) / decay_steps)
''', "array"))
add(wrong(K, "integer division: the rate drops in one go (a miss on the blind run, named since)", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    step = np.asarray(step)
    return lr0 * np.clip(1 - (step - constant_steps) // decay_steps, 0, 1)
''', "integer"))
add(equivalent(K, "np.where over the three phases", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    t = np.asarray(step, dtype=float)
    falling = lr0 * (1.0 - (t - constant_steps) / decay_steps)
    return np.where(t < constant_steps, lr0, np.where(t >= constant_steps + decay_steps, 0.0, falling))
'''))
add(equivalent(K, "np.interp through the corner points", '''
def linear_decay(step, lr0, constant_steps, decay_steps):
    return np.interp(np.asarray(step, dtype=np.float64), [constant_steps, constant_steps + decay_steps], [lr0, 0.0])
'''))

# ---- 04.update_loss_scale -----------------------------------------------------------------------
A04 = '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        return scale / 2, 0, False
    if good_steps + 1 == growth_steps:
        return scale * 2, 0, True
    return scale, good_steps + 1, True
'''
K = "04.update_loss_scale"
add(wrong(K, "an overflow keeps the count", edit(A04, "return scale / 2, 0, False", "return scale / 2, good_steps, False"),
          "count"))
add(wrong(K, "an overflow step still applied", edit(A04, "return scale / 2, 0, False", "return scale / 2, 0, True"), "apply"))
add(wrong(K, "doubles one step late (count == growth_steps)", edit(A04, "if good_steps + 1 == growth_steps:",
                                                                    "if good_steps == growth_steps:"), "doubl"))
add(wrong(K, "the count not reset after doubling (a miss on the blind run, named since)", edit(A04, "return scale * 2, 0, True", "return scale * 2, good_steps + 1, True"),
          "reset"))
add(wrong(K, "doubles on an overflow and halves on growth (a miss on the blind run, named since)",
          edit(A04, "return scale / 2, 0, False", "return scale * 2, 0, False", "return scale * 2, 0, True",
               "return scale / 2, 0, True"), "halve"))
add(equivalent(K, "the count incremented first, >= for the growth test", '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if finite:
        count = good_steps + 1
        if count >= growth_steps:
            return 2.0 * scale, 0, True
        return scale, count, True
    return 0.5 * scale, 0, False
'''))
