"""A second, smaller catalogue, written after the first without reusing its answers (issue 33's
"another catalogue"): other mistakes and other right spellings, to see whether the checkers catch
them at the same rates. Run it alone with ``COURSE_CATALOGUES=independent``."""

from checker_catalogue import equivalent, wrong

ENTRIES = [
    wrong("01.discriminator_loss", "one BCE over the two batches joined", '''
def discriminator_loss(real_logits, fake_logits):
    logits = tf.concat([real_logits, fake_logits], axis=0)
    labels = tf.concat([tf.ones_like(real_logits), tf.zeros_like(fake_logits)], axis=0)
    return bce_from_logits(labels, logits)
''', "half"),
    wrong("01.discriminator_loss", "one-sided label smoothing", '''
def discriminator_loss(real_logits, fake_logits):
    return bce_from_logits(0.9 * tf.ones_like(real_logits), real_logits) + bce_from_logits(tf.zeros_like(fake_logits), fake_logits)
''', "label"),
    wrong("01.generator_loss", "least squares instead of the BCE", '''
def generator_loss(fake_logits):
    return tf.reduce_mean(tf.square(fake_logits - 1.0))
''', "bce"),
    wrong("01.build_generator", "ReLU instead of LeakyReLU", '''
def build_generator(latent_dim=100, filters=256):
    z = keras.Input((latent_dim,))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Dense(7 * 7 * filters, use_bias=False)(z)))
    x = layers.Reshape((7, 7, filters))(x)
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2DTranspose(filters // 2, 5, padding="same", use_bias=False)(x)))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False)(x)))
    return keras.Model(z, layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x))
''', "activation"),
    wrong("01.build_generator", "the widths the other way round", '''
def build_generator(latent_dim=100, filters=256):
    z = keras.Input((latent_dim,))
    x = layers.LeakyReLU(0.3)(layers.BatchNormalization()(layers.Dense(7 * 7 * (filters // 4), use_bias=False)(z)))
    x = layers.Reshape((7, 7, filters // 4))(x)
    x = layers.LeakyReLU(0.3)(layers.BatchNormalization()(layers.Conv2DTranspose(filters // 2, 5, padding="same", use_bias=False)(x)))
    x = layers.LeakyReLU(0.3)(layers.BatchNormalization()(layers.Conv2DTranspose(filters, 5, strides=2, padding="same", use_bias=False)(x)))
    return keras.Model(z, layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh")(x))
''', "width"),
    equivalent("01.build_generator", "a keras.Sequential", '''
def build_generator(latent_dim=100, filters=256):
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * filters, use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.3),
        layers.Reshape((7, 7, filters)),
        layers.Conv2DTranspose(filters // 2, 5, strides=1, padding="same", use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.3),
        layers.Conv2DTranspose(filters // 4, 5, strides=2, padding="same", use_bias=False), layers.BatchNormalization(), layers.LeakyReLU(0.3),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ])
'''),
    wrong("01.train_step", "the generator's loss from detached fakes", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = tf.stop_gradient(generator(noise, training=True))
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(fake_logits)
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
''', "gradient"),
    wrong("01.train_step", "the generator's loss from the real logits", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        d_loss = discriminator_loss(real_logits, fake_logits)
        g_loss = generator_loss(real_logits)
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}
''', "logits"),
    equivalent("01.train_step", "Keras 3's optimizer.apply", '''
def gan_train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise, training=True)
        real_logits, fake_logits = discriminator(real, training=True), discriminator(fake, training=True)
        d_loss, g_loss = discriminator_loss(real_logits, fake_logits), generator_loss(fake_logits)
    d_optimizer.apply(d_tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables)
    g_optimizer.apply(g_tape.gradient(g_loss, generator.trainable_variables), generator.trainable_variables)
    return {"d_loss": d_loss, "g_loss": g_loss}
'''),
    wrong("02.upsample_with_skip", "a 3x3 transposed convolution", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.5)(x)
    return layers.Concatenate()([layers.ReLU()(x), skip])
''', "kernel"),
    wrong("02.upsample_with_skip", "dropout of 0.3", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    if dropout:
        x = layers.Dropout(0.3)(x)
    return layers.Concatenate()([layers.ReLU()(x), skip])
''', "rate"),
    equivalent("02.upsample_with_skip", "layers.concatenate, skip first", '''
def upsample_with_skip(x, skip, filters, dropout=False):
    x = layers.Conv2DTranspose(filters, 4, 2, "same", use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.5)(x) if dropout else x
    return layers.concatenate([skip, layers.Activation("relu")(x)])
'''),
    wrong("02.patchgan", "a LeakyReLU on the logits", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    a, b = keras.Input((image_size, image_size, channels)), keras.Input((image_size, image_size, channels))
    x = layers.Concatenate()([a, b])
    for i in range(n_down):
        x = downsample(x, filters * 2 ** i, norm=i > 0)
    x = layers.Conv2D(filters * 2 ** n_down, 4, use_bias=False, kernel_initializer=INIT)(layers.ZeroPadding2D()(x))
    x = layers.LeakyReLU(negative_slope=0.2)(layers.BatchNormalization()(x))
    x = layers.Conv2D(1, 4, kernel_initializer=INIT)(layers.ZeroPadding2D()(x))
    return keras.Model([a, b], layers.LeakyReLU(negative_slope=0.2)(x))
''', "activation"),
    wrong("02.patchgan", "instance norm instead of batch norm", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    a, b = keras.Input((image_size, image_size, channels)), keras.Input((image_size, image_size, channels))
    x = layers.Concatenate()([a, b])
    for i in range(n_down):
        x = downsample(x, filters * 2 ** i, norm=i > 0)
    x = layers.Conv2D(filters * 2 ** n_down, 4, use_bias=False, kernel_initializer=INIT)(layers.ZeroPadding2D()(x))
    x = layers.LeakyReLU(negative_slope=0.2)(layers.GroupNormalization(groups=-1)(x))
    x = layers.Conv2D(1, 4, kernel_initializer=INIT)(layers.ZeroPadding2D()(x))
    return keras.Model([a, b], x)
''', "normalisation"),
    equivalent("02.patchgan", "target first, ops.concatenate, padding spelled ((1, 1), (1, 1))", '''
def build_patchgan(image_size=256, channels=3, filters=64, n_down=3):
    a, b = keras.Input((image_size, image_size, channels)), keras.Input((image_size, image_size, channels))
    x = keras.ops.concatenate([b, a], axis=3)
    for i in range(n_down):
        x = downsample(x, filters * 2 ** i, norm=(i != 0))
    x = layers.ZeroPadding2D(((1, 1), (1, 1)))(x)
    x = layers.Conv2D(filters * 2 ** n_down, 4, use_bias=False, kernel_initializer=INIT)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(negative_slope=0.2)(x)
    x = layers.Conv2D(1, 4, kernel_initializer=INIT)(layers.ZeroPadding2D(((1, 1), (1, 1)))(x))
    return keras.Model([a, b], x)
'''),
    wrong("02.train_step", "the L1 weight on the adversarial term", '''
def train_step(generator, discriminator, gen_optimizer, disc_optimizer, x, y, l1_weight=100.0):
    with tf.GradientTape() as gt, tf.GradientTape() as dt:
        fake = generator(x, training=True)
        real_logits, fake_logits = discriminator([x, y], training=True), discriminator([x, fake], training=True)
        g_adv = bce(tf.ones_like(fake_logits), fake_logits)
        g_l1 = tf.reduce_mean(tf.abs(y - fake))
        g_total = l1_weight * g_adv + g_l1
        d_loss = discriminator_loss(real_logits, fake_logits)
    disc_optimizer.apply_gradients(zip(dt.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables))
    gen_optimizer.apply_gradients(zip(gt.gradient(g_total, generator.trainable_variables), generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_total, "g_adv": g_adv, "g_l1": g_l1}
''', "l1_weight"),
    wrong("03.cycle_loss", "the weight only on one direction", '''
def cycle_loss(real_x, cycled_x, real_y, cycled_y, weight=10.0):
    return weight * tf.reduce_mean(tf.abs(cycled_x - real_x)) + tf.reduce_mean(tf.abs(cycled_y - real_y))
''', "weight"),
    wrong("03.instance_norm", "gamma and beta applied without affine", '''
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
        return (x - mean) / ops.sqrt(var + self.epsilon) * self.gamma + self.beta
''', "affine"),
    wrong("03.image_pool", "np.random instead of the given draws", '''
class MyImagePool:
    def __init__(self, pool_size=50, seed=0):
        self.pool_size, self.seed, self.images, self.queries = pool_size, seed, [], 0
        self.rng = np.random.default_rng(seed)

    def query(self, images):
        shown = []
        for image in images:
            if len(self.images) < self.pool_size:
                self.images.append(image)
                shown.append(image)
            elif self.rng.random() < 0.5:
                k = int(self.rng.integers(self.pool_size))
                shown.append(self.images[k])
                self.images[k] = image
            else:
                shown.append(image)
        return np.stack(shown)
''', "coins"),
    wrong("03.my_residual_block", "the skip added before the second norm", '''
def my_residual_block(x, filters):
    y = ReflectionPadding2D(1)(x)
    y = layers.ReLU()(InstanceNormalization()(layers.Conv2D(filters, 3, kernel_initializer=INIT)(y)))
    y = layers.Conv2D(filters, 3, kernel_initializer=INIT)(ReflectionPadding2D(1)(y))
    return InstanceNormalization()(layers.Add()([x, y]))
''', "order"),
    wrong("03.train_step", "each pool queried twice", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        fake_y, fake_x = G(x, training=True), F(y, training=True)
        cycle = (losses.cycle_consistency_loss(x, F(fake_y, training=True), cycle_weight)
                 + losses.cycle_consistency_loss(y, G(fake_x, training=True), cycle_weight))
        g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cycle + losses.identity_loss(y, G(y, training=True), identity_weight)
        f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cycle + losses.identity_loss(x, F(x, training=True), identity_weight)
        pool_x.query(fake_x)
        pool_y.query(fake_y)
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(pool_x.query(fake_x), training=True), form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(pool_y.query(fake_y), training=True), form, halve=True)
    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
''', "pool"),
    equivalent("03.train_step", "the fakes through the pools first, scores later", '''
def cyclegan_step(G, F, D_X, D_Y, opt_G, opt_F, opt_DX, opt_DY, x, y, pool_x, pool_y,
                  form="lsgan", cycle_weight=10.0, identity_weight=5.0):
    with tf.GradientTape(persistent=True) as tape:
        fake_y, fake_x = G(x, training=True), F(y, training=True)
        old_y, old_x = pool_y.query(fake_y), pool_x.query(fake_x)
        cycle = cycle_weight * (tf.reduce_mean(tf.abs(F(fake_y, training=True) - x)) + tf.reduce_mean(tf.abs(G(fake_x, training=True) - y)))
        g_loss = losses.generator_loss(D_Y(fake_y, training=True), form) + cycle + losses.identity_loss(y, G(y, training=True), identity_weight)
        f_loss = losses.generator_loss(D_X(fake_x, training=True), form) + cycle + losses.identity_loss(x, F(x, training=True), identity_weight)
        dx_loss = losses.discriminator_loss(D_X(x, training=True), D_X(old_x, training=True), form, halve=True)
        dy_loss = losses.discriminator_loss(D_Y(y, training=True), D_Y(old_y, training=True), form, halve=True)
    for loss, net, opt in ((g_loss, G, opt_G), (f_loss, F, opt_F), (dx_loss, D_X, opt_DX), (dy_loss, D_Y, opt_DY)):
        opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
    return {"g_loss": g_loss, "f_loss": f_loss, "dx_loss": dx_loss, "dy_loss": dy_loss, "cycle": cycle}
'''),
    wrong("04.update_loss_scale", "the scale grows on every finite step", '''
def update_loss_scale(scale, good_steps, finite, growth_steps=2000):
    if not finite:
        return scale / 2, 0, False
    return scale * 2, good_steps + 1, True
''', "growth"),
]
