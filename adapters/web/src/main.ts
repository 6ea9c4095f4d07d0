import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n';
import { router } from './router';
import { session } from './session';
import './styles.css';

// The session resumes from the refresh cookie at once, whichever page opened (public ones show who is signed in too).
void session.start();
createApp(App).use(i18n).use(router).mount('#app');

// For the browser tests: renewing is what two tabs may do at once (the token itself is never exposed).
(window as unknown as { __session: { renew: () => Promise<boolean> } }).__session = { renew: session.renew };
